/**
 * The function definition file (global-function-definition.yml): schema, defaults and
 * validation. Pure: text in, definitions or errors out. Errors name the file, the
 * function and the field, so a user can fix the file without reading code.
 */
import * as path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { FUNCTION_NAME_RULE, isValidFunctionName } from './names';
import type { ScalingSettings } from './scaling';
import { functionSchema } from './definition-schema';
import { HANDLER_STYLES, RUNTIMES, WARM_TIERS, type HandlerStyle, type Runtime, type WarmTier } from './definition-enums';
import { withContentHash } from './definition-hash';
import { lineOfPath } from './definition-lines';

export { HANDLER_STYLES, RUNTIMES, WARM_TIERS, type HandlerStyle, type Runtime, type WarmTier };
export { parseDuration, parseSize } from './definition-schema';

/** A validated function definition with defaults applied and paths resolved. */
export interface FunctionDefinition {
  name: string;
  runtime: Runtime;
  /**
   * Always a string: YAML floats would turn "1.10" into 1.1. When the file declares none, the
   * content hash (so every edit is a new version).
   */
  version: string;
  /** Whether `version` was written in the file (else it is `contentHash`). */
  versionDeclared: boolean;
  /**
   * Hash of the settings, the code folder and the secret files' contents (definition-hash.ts):
   * changes with any edit, even under the same declared version. parseDefinitions alone hashes
   * the settings; loadDefinitionFile adds the files.
   */
  contentHash: string;
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
  /** Most processes/threads in one instance (Docker PidsLimit). */
  pidsLimit: number;
  env: Record<string, string>;
  /**
   * Secret name -> absolute path of the file holding it (on the orchestrator's side). Mounted
   * into instances as /run/secrets/<name>; never in env, labels, images or logs.
   */
  secrets: Record<string, string>;
  /** What an idle instance becomes once drained (issue 11): paused, created (not started) or removed. */
  warm: WarmTier;
  /** How long a paused instance is kept before it is removed. */
  pausedTtlMs: number;
}

export interface DefinitionIssue {
  file: string;
  /** 1-based line in the file, when the problem has a place. */
  line?: number;
  function?: string;
  field?: string;
  message: string;
}

export function formatIssue(i: DefinitionIssue): string {
  const where = [i.line !== undefined ? `${i.file}:${i.line}` : i.file];
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

const fileSchema = z
  .object({
    functions: z.record(z.string(), z.unknown(), {
      invalid_type_error: 'must be a map of function name to definition',
      required_error: 'is required: a map of function name to definition',
    }),
  })
  .strict();

/** `line`: where the issue's path ends in the file (definition-lines.ts). */
function issueFromZod(file: string, fn: string | undefined, issue: z.ZodIssue, line: (path: (string | number)[]) => number | undefined): DefinitionIssue {
  const field = issue.path.length > 0 ? issue.path.join('.') : undefined;
  let message = issue.message;
  // An unknown field has a line of its own: point at the first one.
  const at = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.received === 'undefined') message = 'is required';
  const l = line(fn !== undefined ? ['functions', fn, ...at] : at);
  return { file, ...(l !== undefined ? { line: l } : {}), ...(fn !== undefined ? { function: fn } : {}), ...(field !== undefined ? { field } : {}), message };
}

/**
 * Parse and validate the text of a definition file. `file` is the path (for messages
 * and to resolve `code` directories). Throws DefinitionError listing every problem.
 */
export function parseDefinitions(text: string, file: string): FunctionDefinition[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    throw new DefinitionError(doc.errors.map((e) => ({
      file, ...(e.linePos ? { line: e.linePos[0].line } : {}),
      // yaml's own "at line N, column M:" repeats what `line` says.
      message: `YAML: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}` })));
  }
  const line = (p: (string | number)[]) => lineOfPath(doc, lineCounter, p);
  const top = fileSchema.safeParse(doc.toJS());
  if (!top.success) {
    throw new DefinitionError(top.error.issues.map((i) => issueFromZod(file, undefined, i, line)));
  }
  const issues: DefinitionIssue[] = [];
  const out: FunctionDefinition[] = [];
  const baseDir = path.dirname(path.resolve(file));
  for (const [name, raw] of Object.entries(top.data.functions)) {
    if (!isValidFunctionName(name)) {
      issues.push({ file, line: line(['functions', name]), function: name, message: `invalid function name: use ${FUNCTION_NAME_RULE}, and not a reserved name` });
      continue;
    }
    const parsed = functionSchema.safeParse(raw ?? {});
    if (!parsed.success) {
      issues.push(...parsed.error.issues.map((i) => issueFromZod(file, name, i, line)));
      continue;
    }
    const d = parsed.data;
    out.push(withContentHash({
      name,
      runtime: d.runtime,
      version: d.version ?? '',
      versionDeclared: d.version !== undefined,
      contentHash: '',
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
      pidsLimit: d.pids,
      env: Object.fromEntries(Object.entries(d.env).map(([k, v]) => [k, String(v)])),
      secrets: Object.fromEntries(Object.entries(d.secrets).map(([k, v]) => [k, path.resolve(baseDir, v)])),
      warm: d.warm,
      pausedTtlMs: d.paused_ttl,
    }));
  }
  if (out.length === 0 && issues.length === 0) issues.push({ file, line: line(['functions']), field: 'functions', message: 'defines no function' });
  if (issues.length > 0) throw new DefinitionError(issues);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
