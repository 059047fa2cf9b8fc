/**
 * The function definition file (global-function-definition.yml): schema, defaults and
 * validation. Pure: text in, definitions or errors out. Errors name the file, the
 * function and the field, so a user can fix the file without reading code.
 */
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { FUNCTION_NAME_RULE, isValidFunctionName } from './names';
import { SCALING_DEFAULTS, type ScalingSettings } from './scaling';
import { DEFAULT_MAX_BODY_BYTES } from './config';

export const RUNTIMES = ['node', 'python'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** `http`: handler(request) -> {statusCode, headers, body}; `lambda`: AWS's handler(event, context). */
export const HANDLER_STYLES = ['http', 'lambda'] as const;
export type HandlerStyle = (typeof HANDLER_STYLES)[number];

/** A validated function definition with defaults applied and paths resolved. */
export interface FunctionDefinition {
  name: string;
  runtime: Runtime;
  /** Always a string: YAML floats would turn "1.10" into 1.1. */
  version: string;
  /** Absolute directory holding the function's code. */
  codeDir: string;
  /** "<module>.<export>", module relative to codeDir, e.g. "index.handler". */
  handler: string;
  /** How the runtime calls the handler (FAAS_HANDLER_STYLE). */
  handlerStyle: HandlerStyle;
  /** Largest request body the runtime accepts (FAAS_MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** Most requests one instance serves at once; the router queues the rest. */
  concurrency: number;
  /** Whole-request deadline in the router, ms. */
  timeoutMs: number;
  /** How many instances, decided by the orchestrator's autoscaler. */
  scaling: ScalingSettings;
  memoryMb: number;
  cpus: number;
  env: Record<string, string>;
}

export interface DefinitionIssue {
  file: string;
  function?: string;
  field?: string;
  message: string;
}

export function formatIssue(i: DefinitionIssue): string {
  const where = [i.file];
  if (i.function !== undefined) where.push(`function "${i.function}"`);
  if (i.field !== undefined) where.push(`field "${i.field}"`);
  return `${where.join(': ')}: ${i.message}`;
}

export class DefinitionError extends Error {
  readonly issues: DefinitionIssue[];
  constructor(issues: DefinitionIssue[]) {
    super(`invalid function definitions:\n${issues.map((i) => `  - ${formatIssue(i)}`).join('\n')}`);
    this.name = 'DefinitionError';
    this.issues = issues;
  }
}

const DURATION = /^(\d+)(ms|s|m)$/;

/** "500ms" | "10s" | "2m" -> milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

const duration = (min: number, max: number) =>
  z
    .string({ invalid_type_error: 'must be a duration string such as "500ms", "10s" or "2m"' })
    .refine((s) => parseDuration(s) !== undefined, { message: 'must be a duration such as "500ms", "10s" or "2m"' })
    .transform((s) => parseDuration(s) as number)
    .refine((ms) => ms >= min && ms <= max, { message: `must be between ${min}ms and ${max}ms` });

const SIZE = /^(\d+)(B|KB|KiB|MB|MiB|GB|GiB)?$/;
const SIZE_UNITS: Record<string, number> = { B: 1, KB: 1e3, KiB: 1024, MB: 1e6, MiB: 1024 ** 2, GB: 1e9, GiB: 1024 ** 3 };

/** "6MiB" | "512KiB" | "1MB" | "1024" (bytes) -> bytes. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * (SIZE_UNITS[m[2] ?? 'B'] as number);
}

/** Same bounds as the runtimes' FAAS_MAX_BODY_BYTES. */
const MAX_BODY_LIMIT = 1024 ** 3;
const size = z
  .union([z.string(), z.number().int('must be a size such as "6MiB", "512KiB" or a whole number of bytes')], { errorMap: () => ({ message: 'must be a size such as "6MiB", "512KiB" or a number of bytes' }) })
  .transform((v) => (typeof v === 'number' ? v : parseSize(v)))
  .refine((n): n is number => n !== undefined, { message: 'must be a size such as "6MiB", "512KiB", "1MB" or a number of bytes' })
  .refine((n) => n >= 0 && n <= MAX_BODY_LIMIT, { message: 'must be between 0 and 1GiB' });

const intIn = (min: number, max: number) =>
  z
    .number({ invalid_type_error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const functionSchema = z
  .object({
    runtime: z.enum(RUNTIMES, { errorMap: () => ({ message: `must be one of: ${RUNTIMES.join(', ')}` }) }),
    version: z.string({
      invalid_type_error: 'must be a quoted string (YAML reads 1.10 as the number 1.1): write version: "1.10"',
      required_error: 'is required',
    }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 characters of letters, digits, ".", "_" or "-"'),
    code: z.string({ required_error: 'is required (directory of the function code, relative to the definition file)' }).min(1),
    handler: z
      .string()
      .regex(/^[A-Za-z0-9_./-]+\.[A-Za-z_$][A-Za-z0-9_$]*$/, 'must look like "<module>.<export>", e.g. "index.handler"')
      // The module must stay inside the code directory.
      .refine((h) => !h.startsWith('/') && !h.split('/').includes('..'), 'must be a module inside the code directory (no leading "/", no ".." segments)')
      .default('index.handler'),
    handler_style: z.enum(HANDLER_STYLES, { errorMap: () => ({ message: `must be one of: ${HANDLER_STYLES.join(', ')}` }) }).default('http'),
    max_body: size.default(DEFAULT_MAX_BODY_BYTES),
    concurrency: intIn(1, 1000).default(8),
    timeout: duration(100, 15 * 60_000).default('30s'),
    idle_timeout: duration(500, 24 * 3_600_000).default('30s'),
    min_instances: intIn(0, 100).default(SCALING_DEFAULTS.minInstances),
    max_instances: intIn(1, 100).default(SCALING_DEFAULTS.maxInstances),
    target_concurrency: intIn(1, 1000).optional(),
    target_utilization: z.number({ invalid_type_error: 'must be a number' }).gt(0, 'must be above 0').max(1, 'must be at most 1').default(SCALING_DEFAULTS.targetUtilization),
    scale_down_delay: duration(0, 3_600_000).default('0s'),
    stable_window: duration(6_000, 3_600_000).default('60s'),
    panic_window: duration(1_000, 3_600_000).default('6s'),
    panic_threshold: z.number({ invalid_type_error: 'must be a number' }).min(1.1, 'must be at least 1.1').max(100, 'must be at most 100').default(SCALING_DEFAULTS.panicThreshold),
    max_scale_up_rate: z.number({ invalid_type_error: 'must be a number' }).min(1.1, 'must be at least 1.1').max(1000, 'must be at most 1000').default(SCALING_DEFAULTS.maxScaleUpRate),
    max_scale_down_rate: z.number({ invalid_type_error: 'must be a number' }).min(1.1, 'must be at least 1.1').max(1000, 'must be at most 1000').default(SCALING_DEFAULTS.maxScaleDownRate),
    memory_mb: intIn(16, 16_384).default(128),
    // Docker's minimum; smaller values would round NanoCpus to 0, which means "no limit".
    cpus: z.number({ invalid_type_error: 'must be a number' }).min(0.01, 'must be at least 0.01').max(64, 'must be at most 64').default(1),
    env: z
      .record(
        z.string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'names must be valid environment variable names')
          // The runtime's own settings must not be overridden by a function's env.
          .refine((k) => !k.startsWith('FAAS_') && k !== 'NODE_OPTIONS', (k) => ({ message: `${k} is reserved by the platform (FAAS_* and NODE_OPTIONS)` })),
        z.union([
          z.string(),
          z.number()
            .int('must be quoted when not an integer (YAML reads 1.10 as the number 1.1): write "1.10"')
            // Beyond 2^53 the digits written are not the digits kept: quote it too.
            .safe('must be quoted when this large (digits would be lost): write it as a string'),
          z.boolean(),
        ], {
          // No member matched (a list, a map, null): one clear message instead of zod's "Invalid input".
          errorMap: (issue, ctx) => ({ message: issue.code === 'invalid_union' || issue.code === 'invalid_type' ? 'values must be strings, integers or booleans' : ctx.defaultError }),
        }),
      )
      .default({}),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.min_instances > d.max_instances) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['min_instances'], message: `must not exceed max_instances (${d.max_instances})` });
    if (d.panic_window > d.stable_window) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['panic_window'], message: 'must not exceed stable_window' });
  });

const fileSchema = z
  .object({
    functions: z.record(z.string(), z.unknown(), {
      invalid_type_error: 'must be a map of function name to definition',
      required_error: 'is required: a map of function name to definition',
    }),
  })
  .strict();

function issueFromZod(file: string, fn: string | undefined, issue: z.ZodIssue): DefinitionIssue {
  const field = issue.path.length > 0 ? issue.path.join('.') : undefined;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.received === 'undefined') message = 'is required';
  return { file, ...(fn !== undefined ? { function: fn } : {}), ...(field !== undefined ? { field } : {}), message };
}

/**
 * Parse and validate the text of a definition file. `file` is the path (for messages
 * and to resolve `code` directories). Throws DefinitionError listing every problem.
 */
export function parseDefinitions(text: string, file: string): FunctionDefinition[] {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new DefinitionError(doc.errors.map((e) => ({ file, message: `YAML: ${e.message.split('\n')[0]}` })));
  }
  const top = fileSchema.safeParse(doc.toJS());
  if (!top.success) {
    throw new DefinitionError(top.error.issues.map((i) => issueFromZod(file, undefined, i)));
  }
  const issues: DefinitionIssue[] = [];
  const out: FunctionDefinition[] = [];
  const baseDir = path.dirname(path.resolve(file));
  for (const [name, raw] of Object.entries(top.data.functions)) {
    if (!isValidFunctionName(name)) {
      issues.push({ file, function: name, message: `invalid function name: use ${FUNCTION_NAME_RULE}, and not a reserved name` });
      continue;
    }
    const parsed = functionSchema.safeParse(raw ?? {});
    if (!parsed.success) {
      issues.push(...parsed.error.issues.map((i) => issueFromZod(file, name, i)));
      continue;
    }
    const d = parsed.data;
    out.push({
      name,
      runtime: d.runtime,
      version: d.version,
      codeDir: path.resolve(baseDir, d.code),
      handler: d.handler,
      handlerStyle: d.handler_style,
      maxBodyBytes: d.max_body as number,
      concurrency: d.concurrency,
      timeoutMs: d.timeout,
      scaling: {
        minInstances: d.min_instances,
        maxInstances: d.max_instances,
        targetConcurrency: d.target_concurrency ?? d.concurrency,
        targetUtilization: d.target_utilization,
        idleTimeoutMs: d.idle_timeout,
        scaleDownDelayMs: d.scale_down_delay,
        stableWindowMs: d.stable_window,
        panicWindowMs: d.panic_window,
        panicThreshold: d.panic_threshold,
        maxScaleUpRate: d.max_scale_up_rate,
        maxScaleDownRate: d.max_scale_down_rate,
      },
      memoryMb: d.memory_mb,
      cpus: d.cpus,
      env: Object.fromEntries(Object.entries(d.env).map(([k, v]) => [k, String(v)])),
    });
  }
  if (out.length === 0 && issues.length === 0) issues.push({ file, field: 'functions', message: 'defines no function' });
  if (issues.length > 0) throw new DefinitionError(issues);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
