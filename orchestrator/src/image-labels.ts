/**
 * Labels of a function image: the platform's own (LABELS) and the OCI ones (OCI_LABELS), plus
 * the checkout's commit for `.revision`. Pure apart from reading .git files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type FunctionDefinition, LABELS, OCI_LABELS } from '@faas/contracts';

export interface ImageProvenance {
  /** The source commit (FAAS_SOURCE_REVISION, else read from the checkout); undefined when unknown. */
  revision?: string;
  /** FAAS_SOURCE_URL (e.g. a repository URL), else the code folder as a file: URL. */
  sourceUrl?: string;
}

/** Every label a function image gets; `created` is the build time (not an input: no rebuild for it). */
export function imageLabels(def: Pick<FunctionDefinition, 'name' | 'version' | 'codeDir'>, inputsHash: string, created: Date, prov: ImageProvenance): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.function]: def.name,
    [LABELS.version]: def.version,
    [LABELS.inputsHash]: inputsHash,
    [OCI_LABELS.title]: def.name,
    [OCI_LABELS.version]: def.version,
    [OCI_LABELS.created]: created.toISOString(),
    [OCI_LABELS.source]: prov.sourceUrl ?? pathToFileURL(def.codeDir).href,
  };
  if (prov.revision !== undefined && prov.revision !== '') labels[OCI_LABELS.revision] = prov.revision;
  return labels;
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // absent: this layout does not have it, the caller tries the next one
  }
}

/** The git directory of the checkout containing `dir` (a worktree's `.git` is a file naming it). */
function gitDirOf(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const dotGit = path.join(d, '.git');
    const st = fs.statSync(dotGit, { throwIfNoEntry: false });
    if (st?.isDirectory()) return dotGit;
    if (st?.isFile()) {
      const m = /^gitdir:\s*(.+)$/m.exec(readText(dotGit) ?? '');
      return m?.[1] ? path.resolve(d, m[1].trim()) : undefined;
    }
    if (path.dirname(d) === d) return undefined;
  }
}

/**
 * The commit checked out around `dir`, read from .git files (HEAD, loose refs, packed-refs,
 * a worktree's commondir) rather than by spawning git: a few file reads at each build, and
 * no git binary needed in the orchestrator's image. Undefined when not a checkout.
 */
export function readGitRevision(dir: string): string | undefined {
  const gitDir = gitDirOf(dir);
  if (gitDir === undefined) return undefined;
  const head = readText(path.join(gitDir, 'HEAD'))?.trim();
  if (head === undefined) return undefined;
  if (SHA.test(head)) return head; // detached
  const ref = /^ref:\s*(\S+)$/.exec(head)?.[1];
  if (ref === undefined) return undefined;
  const common = readText(path.join(gitDir, 'commondir'))?.trim();
  const dirs = [gitDir, ...(common ? [path.resolve(gitDir, common)] : [])];
  for (const g of dirs) {
    const loose = readText(path.join(g, ref))?.trim();
    if (loose !== undefined && SHA.test(loose)) return loose;
  }
  for (const g of dirs) {
    for (const line of (readText(path.join(g, 'packed-refs')) ?? '').split('\n')) {
      const [sha, name] = line.split(' ');
      if (name === ref && sha !== undefined && SHA.test(sha)) return sha;
    }
  }
  return undefined;
}
