/**
 * Bind-mount sources are paths on dockerd's machine. The native orchestrator shares its file
 * system with dockerd; in compose it runs in a container, so a directory it writes is found
 * behind one of its own mounts: the host path is read from its own container's inspect.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { FaasError } from '@faas/contracts';

export interface MountInfo {
  Source: string;
  Destination: string;
}

/** Pure: the host path of `dir` given the container's mounts, or undefined when no mount holds it. */
export function hostPathVia(mounts: readonly MountInfo[], dir: string): string | undefined {
  const inside = path.resolve(dir);
  // The deepest mount wins (a mount inside another mount).
  const holding = mounts
    .filter((m) => inside === m.Destination || inside.startsWith(`${m.Destination.replace(/\/$/, '')}/`))
    .sort((a, b) => b.Destination.length - a.Destination.length)[0];
  if (!holding) return undefined;
  return path.join(holding.Source, path.relative(holding.Destination, inside));
}

/**
 * `dir` as dockerd sees it: `explicit` when given (FAAS_SECRETS_HOST_DIR); `dir` itself unless
 * this process runs in a container of that same dockerd (its hostname is its id there), in
 * which case through that container's mounts. A container dockerd does not know (dockerd
 * itself runs in it, as on CI machines) shares dockerd's view.
 */
export async function dockerVisiblePath(docker: Docker, dir: string, explicit: string | undefined, inContainer = fs.existsSync('/.dockerenv')): Promise<string> {
  if (explicit) return explicit;
  if (!inContainer) return dir;
  let self: Docker.ContainerInspectInfo;
  try {
    self = await docker.getContainer(os.hostname()).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return dir;
    throw new FaasError('host_path_unknown', `cannot find ${dir} on the Docker host: inspecting this container failed (${(err as Error).message}); set FAAS_SECRETS_HOST_DIR`, { dir }, { cause: err });
  }
  // A name or id prefix that happens to equal our hostname is some other container.
  if (self.Config.Hostname !== os.hostname()) return dir;
  const host = hostPathVia(self.Mounts ?? [], dir);
  if (host === undefined) {
    throw new FaasError('host_path_unknown', `${dir} is not on a bind mount of this container, so function containers cannot mount it; mount a host directory there or set FAAS_SECRETS_HOST_DIR`, { dir });
  }
  return host;
}
