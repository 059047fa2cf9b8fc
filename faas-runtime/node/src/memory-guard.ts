/**
 * Refusing a body that would not fit in the container's memory (cgroup v2 or v1), so a large request
 * gets 413 instead of the kernel's OOM killer taking every request on the instance with it.
 * memory.max is read once; memory.current on each request that declares a large body.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Room kept free for the handler's own work besides the body (and its copies in the handler). */
export const MEMORY_HEADROOM_BYTES = 16 * 1024 * 1024;
/** Bodies below this are never checked: reading memory.current costs more than they risk. */
export const MEMORY_CHECK_MIN_BYTES = 1024 * 1024;

/** Pure decision: does a body of `bytes` fit under `max` with `current` in use? */
export function bodyFitsMemory(bytes: number, max: number | undefined, current: number | undefined): boolean {
  if (max === undefined || current === undefined || bytes < MEMORY_CHECK_MIN_BYTES) return true;
  return current + bytes + MEMORY_HEADROOM_BYTES <= max;
}

function readNumber(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined; // no cgroup v2 file here (not in a container, or cgroup v1): no guard
  }
  const n = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(n) ? n : undefined; // "max" means unlimited
}

export interface MemoryGuard {
  /** The limit found at start, or undefined when unlimited or unknown. */
  readonly maxBytes: number | undefined;
  fits(bytes: number): boolean;
}

/** cgroup v1 reports "no limit" as a huge page-rounded number. */
const V1_UNLIMITED = 2 ** 62;

/** cgroup v2 (memory.max, memory.current), else v1 (memory/memory.limit_in_bytes, usage_in_bytes). */
export function createMemoryGuard(cgroupDir: string): MemoryGuard {
  const v2 = fs.existsSync(path.join(cgroupDir, 'memory.max'));
  const v1Limit = v2 ? undefined : readNumber(path.join(cgroupDir, 'memory', 'memory.limit_in_bytes'));
  const maxBytes = v2 ? readNumber(path.join(cgroupDir, 'memory.max')) : v1Limit !== undefined && v1Limit < V1_UNLIMITED ? v1Limit : undefined;
  const currentFile = v2 ? path.join(cgroupDir, 'memory.current') : path.join(cgroupDir, 'memory', 'memory.usage_in_bytes');
  return {
    maxBytes,
    fits: (bytes) => maxBytes === undefined || bytes < MEMORY_CHECK_MIN_BYTES || bodyFitsMemory(bytes, maxBytes, readNumber(currentFile)),
  };
}
