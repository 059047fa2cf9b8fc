/** @faas/load: the load script's parts, for tests and other scripts (bench). */
export { parseOptions, targetUrl, loopbackUrl, USAGE } from './options';
export type { LoadOptions } from './options';
export { LoadOptionError, parseRamp, parseDuration, rateAt, sendTimes, offeredPerSecond, totalMs } from './plan';
export type { Segment } from './plan';
export { SecondsRecorder, percentile, progressLine, formatErrors } from './seconds';
export type { SecondRow, Instances, Outcome } from './seconds';
export { toCsv, CSV_COLUMNS } from './csv';
export { chartSpec, chartData, renderSvg, renderPng } from './chart';
export { writeReport } from './report';
export { runLoad } from './runner';
export type { RunHooks, RunResult } from './runner';
export { findToken, instancesOf, readInstances } from './instances';
