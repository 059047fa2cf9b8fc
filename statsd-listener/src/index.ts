/** statsd-listener: Envoy's statsd metrics (UDP) -> per-function figures in Redis. */
export { startStatsdListener, StatsdListenerError } from './listener';
export type { StatsdListener, StatsdListenerOptions } from './listener';
export { parseDatagram, parseLine } from './parse';
export type { StatsdMetric, StatsdType, ParsedDatagram, MalformedLine } from './parse';
export { MetricsAggregator, functionStat } from './aggregate';
export { metricsFields } from './listener';
export type { AggregatorOptions } from './aggregate';
