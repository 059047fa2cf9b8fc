/**
 * Structured logs: one JSON object per line on stdout, with the component, the event,
 * and (where there is one) the function name and request id.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogFields {
  fn?: string;
  requestId?: string;
  [key: string]: unknown;
}

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function errorFields(v: unknown): unknown {
  if (v instanceof Error) {
    const out: Record<string, unknown> = { name: v.name, message: v.message };
    for (const [k, val] of Object.entries(v)) out[k] = val;
    return out;
  }
  return v;
}

export function createLogger(component: string, base: LogFields = {}, write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const min = ORDER[(process.env.FAAS_LOG_LEVEL as LogLevel | undefined) ?? 'info'] ?? ORDER.info;
  const emit = (level: LogLevel, event: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const rec: Record<string, unknown> = { ts: new Date().toISOString(), level, component, event, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = errorFields(v);
    write(`${JSON.stringify(rec)}\n`);
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    child: (f) => createLogger(component, { ...base, ...f }, write),
  };
}
