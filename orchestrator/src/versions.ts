/**
 * The versions of one function the status endpoint shows (contracts/status-api.ts): the one
 * that takes new requests, the ones building, starting or draining, and the last failed one.
 * Instance counts come from the instance set at read time, so they are never stale.
 */
import type { FunctionStatus, VersionState, VersionStatus } from '@faas/contracts';
import type { Instance } from './instance-set';

interface Entry {
  version: string;
  state: VersionState;
  image: string | undefined;
  since: number;
  error: string | undefined;
}

export class VersionBook {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number) {}

  /** Set a version's state (and image/error when given); a failed version stays until replaced. */
  set(version: string, state: VersionState, extra: { image?: string; error?: string } = {}): void {
    const e = this.entries.get(version);
    if (e) {
      if (e.state !== state) e.since = this.now();
      e.state = state;
      if (extra.image !== undefined) e.image = extra.image;
      e.error = state === 'failed' ? extra.error : undefined;
      return;
    }
    this.entries.set(version, { version, state, image: extra.image, since: this.now(), error: extra.error });
  }

  state(version: string): VersionState | undefined {
    return this.entries.get(version)?.state;
  }

  /** Retired: gone from the list. */
  drop(version: string): void {
    this.entries.delete(version);
  }

  /** Failed versions other than `keep` (a new attempt replaces the old failure). */
  dropFailed(keep?: string): void {
    for (const [v, e] of this.entries) if (e.state === 'failed' && v !== keep) this.entries.delete(v);
  }

  status(name: string, instances: readonly Pick<Instance, 'version' | 'state'>[]): FunctionStatus {
    const versions: VersionStatus[] = [];
    const counted = new Set<string>();
    const countsOf = (version: string) => {
      counted.add(version);
      const c: Record<string, number> = {};
      for (const i of instances) if (i.version === version && i.state !== 'stopped') c[i.state] = (c[i.state] ?? 0) + 1;
      return c;
    };
    for (const e of this.entries.values()) {
      versions.push({
        version: e.version, state: e.state, instances: countsOf(e.version), since: e.since,
        ...(e.image !== undefined ? { image: e.image } : {}), ...(e.error !== undefined ? { error: e.error } : {}),
      });
    }
    // Instances of a version with no entry, from before a restart: draining, or still serving
    // because the current version could not be built.
    for (const i of instances) {
      if (counted.has(i.version)) continue;
      const serving = instances.some((x) => x.version === i.version && x.state === 'ready');
      versions.push({ version: i.version, state: serving ? 'active' : 'draining', instances: countsOf(i.version), since: this.now() });
    }
    const active = versions.find((e) => e.state === 'active');
    return { name, activeVersion: active?.version ?? null, versions };
  }
}
