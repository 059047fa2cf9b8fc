/**
 * One `npm run stack` per machine: `.stack/stack.json` names the running stack. Taken with an
 * exclusive create, checked before anything is started or swept; a file whose pid is dead is stale
 * and taken over.
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import { FaasError } from '@faas/contracts';

const PortsSchema = z.object({
  gateway: z.number().int(), router: z.number().int(), xdsGrpc: z.number().int(), xdsHttp: z.number().int(),
  redisRest: z.number().int(), statsd: z.number().int(), redis: z.number().int(),
});

/** Written by one launcher process, read by the next one: validated on read. */
export const StackLockSchema = z.object({
  pid: z.number().int().positive(),
  runId: z.string(),
  stack: z.string(),
  ports: PortsSchema,
  startedAt: z.string(),
});
export type StackLock = z.infer<typeof StackLockSchema>;

export type LockResult = { acquired: true; release(): void } | { acquired: false; holder: StackLock };

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else, which still counts as running.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): StackLock | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FaasError('stack_lock', `cannot read ${file}`, { file }, { cause: err });
  }
  const parsed = StackLockSchema.safeParse(((): unknown => { try { return JSON.parse(text); } catch { return undefined; } })());
  // Unparsable (a writer died mid-write): no live holder can be named, so it is stale.
  return parsed.success ? parsed.data : undefined;
}

export function acquireStackLock(file: string, info: StackLock, isAlive: (pid: number) => boolean = pidAlive): LockResult {
  for (let tries = 0; tries < 3; tries++) {
    try {
      fs.writeFileSync(file, `${JSON.stringify(info)}\n`, { flag: 'wx', mode: 0o644 });
      return { acquired: true, release: () => removeIfOurs(file, info.pid) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new FaasError('stack_lock', `cannot create ${file}`, { file }, { cause: err });
    }
    const holder = readLock(file);
    if (holder && holder.pid !== info.pid && isAlive(holder.pid)) return { acquired: false, holder };
    fs.rmSync(file, { force: true }); // stale: its launcher is gone
  }
  throw new FaasError('stack_lock', `cannot take ${file}: another launcher keeps replacing it`, { file });
}

function removeIfOurs(file: string, pid: number): void {
  if (readLock(file)?.pid === pid) fs.rmSync(file, { force: true });
}

export function refusalLine(holder: StackLock): string {
  return `a stack is already running on 127.0.0.1:${holder.ports.gateway} (pid ${holder.pid})`;
}
