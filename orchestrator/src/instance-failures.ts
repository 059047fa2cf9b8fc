/**
 * Why an instance ended, recorded for the client that was waiting on it
 * (contracts/instance-failures.ts): the gateway turns the router's `instance_failed` into
 * `out_of_memory` when the record says the kernel killed the instance for memory.
 */
import type { Redis } from 'ioredis';
import {
  INSTANCE_FAILURE_HISTORY, INSTANCE_FAILURE_TTL_MS, type InstanceFailureRecord, InstanceFailureRecordSchema, instanceFailureKeys,
} from '@faas/contracts';
import type { ControllerContext } from './controller-context';
import type { ExitInfo } from './docker-driver';

export interface FailureRecorder {
  record(r: InstanceFailureRecord): Promise<void>;
}

/** LPUSH + LTRIM + PEXPIRE + PUBLISH in one MULTI: a reader that sees the message can read the list. */
export class RedisFailureRecorder implements FailureRecorder {
  private readonly keys;

  constructor(private readonly redis: Redis, stack: string) {
    this.keys = instanceFailureKeys(stack);
  }

  async record(r: InstanceFailureRecord): Promise<void> {
    const json = JSON.stringify(InstanceFailureRecordSchema.parse(r));
    const key = this.keys.list(r.fn);
    const res = await this.redis.multi()
      .lpush(key, json).ltrim(key, 0, INSTANCE_FAILURE_HISTORY - 1).pexpire(key, INSTANCE_FAILURE_TTL_MS)
      .publish(this.keys.channel, json)
      .exec();
    const failed = res?.find(([err]) => err !== null)?.[0];
    if (!res || failed) throw failed ?? new Error('Redis transaction was aborted');
  }
}

/**
 * Inspect a dead instance's container, log an OOM kill (`instance_oom` with the instance id) and
 * record the cause. Runs at once on `die`, beside the endpoint withdrawal: a client is waiting.
 * `known` (from the die event, exit-events.ts) saves the inspect, which waits for dockerd's teardown.
 */
export async function reportExit(ctx: Pick<ControllerContext, 'def' | 'deps' | 'log'>, instance: string, containerId: string, known?: ExitInfo): Promise<void> {
  const exit = known ?? await ctx.deps.driver.exitInfo(containerId).catch((err: unknown) => {
    ctx.log.warn('container_inspect_failed', { instance, containerId, error: err });
    return undefined;
  });
  const oom = exit?.oomKilled === true;
  if (oom) ctx.log.error('instance_oom', { instance, containerId, memoryMb: ctx.def.memoryMb });
  const recorder = ctx.deps.failures;
  if (!recorder) return;
  const record: InstanceFailureRecord = {
    fn: ctx.def.name, instance, cause: oom ? 'oom' : 'exited', memoryMb: ctx.def.memoryMb, at: ctx.deps.now(),
    ...(exit ? { exitCode: exit.exitCode } : {}),
  };
  await recorder.record(record).catch((err: unknown) => ctx.log.warn('instance_failure_record_failed', { instance, cause: record.cause, error: err }));
}
