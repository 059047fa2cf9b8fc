/** A tiny JSON-lines logger (the runtime has no dependencies): one object per event on stdout. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface RuntimeLogger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function plain(v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message, stack: v.stack };
  return v;
}

export function createRuntimeLogger(base: LogFields, write: (line: string) => void = (l) => process.stdout.write(l), level?: string): RuntimeLogger {
  const min = ORDER[(level ?? process.env.FAAS_LOG_LEVEL ?? 'info') as LogLevel] ?? ORDER.info;
  const emit = (lvl: LogLevel, event: string, fields?: LogFields): void => {
    if (ORDER[lvl] < min) return;
    const rec: LogFields = { ts: new Date().toISOString(), level: lvl, component: 'runtime-node', event, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = plain(v);
    let line: string;
    try {
      line = JSON.stringify(rec);
    } catch {
      line = JSON.stringify({ ts: rec.ts, level: lvl, component: 'runtime-node', event, note: 'unserialisable log fields' });
    }
    write(`${line}\n`);
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
  };
}
