/** The orchestrator's start-up and shutdown steps for secrets (secret-mounts.ts does the files). */
import type { FunctionDefinition, Logger } from '@faas/contracts';
import type { InstanceDriver } from './docker-driver';
import type { SecretMounts } from './secret-mounts';
import { secretError, secretProblems } from './secrets';

/**
 * One clear line per unreadable secret file (the function's instances then fail to start, each
 * attempt naming the file again; other functions serve), and one if function containers could
 * not mount the secrets directory. Paths only, never contents.
 */
export async function checkSecretsAtStart(defs: readonly FunctionDefinition[], mounts: SecretMounts, log: Logger): Promise<void> {
  for (const p of defs.flatMap(secretProblems)) log.error('secret_unreadable', { ...p, message: secretError(p).message });
  if (!defs.some((d) => Object.keys(d.secrets).length > 0)) return;
  await mounts.hostStackDir().catch((err: unknown) => log.error('secrets_dir_unusable', { error: err }));
}

/** After adoption: remove the secrets of instances whose containers are gone (a crash left them). */
export async function sweepSecrets(driver: InstanceDriver, mounts: SecretMounts, log: Logger): Promise<void> {
  try {
    const owned = await driver.listOwned();
    const removed = await mounts.sweep(new Set(owned.map((c) => c.instanceId)));
    if (removed.length > 0) log.info('secret_dirs_swept', { count: removed.length });
  } catch (err) {
    // Housekeeping: a leftover directory is retried at the next start.
    log.warn('secret_sweep_failed', { error: err });
  }
}
