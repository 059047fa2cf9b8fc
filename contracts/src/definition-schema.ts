/**
 * The zod schema of one function's entry in the definition file: field names as users write
 * them, bounds and defaults. definition.ts maps a parsed entry to a FunctionDefinition.
 */
import { z } from 'zod';
import { DEFAULT_MAX_BODY_BYTES } from './config';
import { HANDLER_STYLES, RUNTIMES, WARM_TIERS } from './definition-enums';
import { SCALING_DEFAULTS } from './scaling';

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

export const functionSchema = z
  .object({
    runtime: z.enum(RUNTIMES, { errorMap: () => ({ message: `must be one of: ${RUNTIMES.join(', ')}` }) }),
    // Optional: without it the version is the content hash of code + settings (definition-hash.ts).
    version: z.string({
      invalid_type_error: 'must be a quoted string (YAML reads 1.10 as the number 1.1): write version: "1.10"',
    }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 characters of letters, digits, ".", "_" or "-"').optional(),
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
    // Enough for Node's and Python's own threads plus a handler's child processes.
    pids: intIn(16, 4096).default(256),
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
    // name -> file path relative to the definition file; mounted as /run/secrets/<name>.
    secrets: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'names must be 1-64 of letters, digits, ".", "_", "-" (a file name under /run/secrets)'),
        z.string({ invalid_type_error: 'values must be file paths (relative to the definition file)' }).min(1, 'must be a file path'),
      )
      .default({}),
    warm: z.enum(WARM_TIERS, { errorMap: () => ({ message: `must be one of: ${WARM_TIERS.join(', ')}` }) }).default('paused'),
    paused_ttl: duration(1_000, 24 * 3_600_000).default('10m'),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.min_instances > d.max_instances) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['min_instances'], message: `must not exceed max_instances (${d.max_instances})` });
    if (d.panic_window > d.stable_window) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['panic_window'], message: 'must not exceed stable_window' });
  });

