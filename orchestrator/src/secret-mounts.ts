/**
 * Secret files of instances on disk: one directory per instance, <dir>/<stack>/<instance>/<name>,
 * bind-mounted read-only at /run/secrets. Written when the instance is created (so a changed
 * secret file reaches the next instance), removed with its container; a start-up sweep removes
 * what a crash left. Only the runtime's uid can read them: the directory and files belong to
 * uid 10001 (0500/0400) when the orchestrator is root; otherwise they are world-readable inside
 * parents that only the orchestrator's user can enter (0700), which a container does not need.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { FaasError, type FunctionDefinition, type Logger } from '@faas/contracts';
import { FUNCTION_UID } from './build-context';
import { readSecrets } from './secrets';

export interface SecretMountsOptions {
  /** Where the orchestrator writes (its own file system view). */
  dir: string;
  /**
   * The same directory as dockerd sees it (compose: the host path behind the orchestrator's
   * bind mount); resolved on first use, so a stack without secrets never needs it.
   */
  hostDir: () => Promise<string>;
  stack: string;
  log: Logger;
}

/** Instance ids become directory names: nothing that could leave the stack directory. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class SecretMounts {
  private readonly stackDir: string;
  private host: Promise<string> | undefined;
  private readonly asRoot = process.getuid?.() === 0;

  constructor(private readonly opts: SecretMountsOptions) {
    this.stackDir = path.join(opts.dir, opts.stack);
  }

  /** Where dockerd finds this stack's directory (memoized; a failure is retried next time). */
  hostStackDir(): Promise<string> {
    if (!this.host) {
      const p = this.opts.hostDir().then((h) => path.join(h, this.opts.stack));
      p.catch(() => {
        this.host = undefined;
      });
      this.host = p;
    }
    return this.host;
  }

  /**
   * Write one instance's secrets; the host path of its directory to mount at /run/secrets, or
   * undefined when the function has none. Throws FaasError secret_unreadable naming the file.
   */
  async prepare(def: FunctionDefinition, instanceId: string): Promise<string | undefined> {
    if (Object.keys(def.secrets).length === 0) return undefined;
    const secrets = readSecrets(def);
    const host = await this.hostStackDir();
    const dir = this.instanceDir(instanceId);
    try {
      await this.ensurePrivate();
      await this.remove(dir);
      await fs.mkdir(dir, { mode: 0o700 });
      for (const [name, data] of secrets) {
        const file = path.join(dir, name);
        await fs.writeFile(file, data, { mode: 0o400, flag: 'wx' });
        if (this.asRoot) await fs.chown(file, FUNCTION_UID, FUNCTION_UID);
        else await fs.chmod(file, 0o444);
      }
      if (this.asRoot) await fs.chown(dir, FUNCTION_UID, FUNCTION_UID);
      await fs.chmod(dir, this.asRoot ? 0o500 : 0o555);
    } catch (err) {
      await this.remove(dir).catch((e: unknown) => this.opts.log.warn('secret_dir_remove_failed', { fn: def.name, instance: instanceId, error: e }));
      throw new FaasError('secrets_write_failed', `function "${def.name}": cannot write its secrets under ${this.stackDir}: ${(err as Error).message}`, { fn: def.name, dir: this.stackDir });
    }
    return path.join(host, instanceId);
  }

  /** Remove one instance's directory (its container is gone). Idempotent. */
  async release(instanceId: string): Promise<void> {
    await this.remove(this.instanceDir(instanceId));
  }

  /** Remove every instance directory not in `keep` (instances whose containers exist); returns the removed ids. */
  async sweep(keep: ReadonlySet<string>): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.stackDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const gone = names.filter((n) => SAFE_ID.test(n) && !keep.has(n));
    for (const n of gone) await this.remove(path.join(this.stackDir, n));
    return gone;
  }

  /** The stack's directory once nothing is left in it (shutdown). */
  async removeStackDir(): Promise<void> {
    await fs.rmdir(this.stackDir).catch((err: NodeJS.ErrnoException) => {
      // Absent (no function had secrets) or still holding a leaked instance's directory.
      if (err.code !== 'ENOENT' && err.code !== 'ENOTEMPTY') throw err;
    });
  }

  private instanceDir(instanceId: string): string {
    if (!SAFE_ID.test(instanceId)) throw new FaasError('invalid_instance_id', `instance id ${JSON.stringify(instanceId)} cannot name a secrets directory`, { instance: instanceId });
    return path.join(this.stackDir, instanceId);
  }

  private async ensurePrivate(): Promise<void> {
    await fs.mkdir(this.stackDir, { recursive: true, mode: 0o700 });
    await fs.chmod(this.opts.dir, 0o700);
    await fs.chmod(this.stackDir, 0o700);
  }

  private async remove(dir: string): Promise<void> {
    // A non-root orchestrator cannot delete files from the 0555 directory it made: open it first.
    await fs.chmod(dir, 0o700).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await fs.rm(dir, { recursive: true, force: true });
  }
}
