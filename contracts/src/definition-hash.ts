/**
 * A function's content hash: its settings, its code folder and its secret files' identity (not contents), so
 * every edit is a new version (issue 9) and a code change under an unchanged declared version
 * still counts as a change. Pure: the caller reads the files (definition-file.ts).
 */
import { createHash } from 'node:crypto';
import type { FunctionDefinition } from './definition';

/** Hex digits kept: the length of a version made from the hash. */
export const CONTENT_HASH_LENGTH = 16;

/** Fields that identify a definition rather than configure it. */
const NOT_SETTINGS = new Set(['name', 'version', 'versionDeclared', 'contentHash']);

/** JSON with object keys sorted at every level: equal settings always give equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Digest of every setting of a definition (not its name or version). */
export function settingsDigest(def: FunctionDefinition): string {
  const settings = Object.fromEntries(Object.entries(def).filter(([k]) => !NOT_SETTINGS.has(k)));
  return createHash('sha256').update(canonical(settings)).digest('hex');
}

/** What was read from disk for one function: digests of its code folder and of each secret file. */
export interface FunctionInputDigests {
  code: string;
  /** Secret name -> the file's identity (inode:size:mtime) or 'unreadable:<errno>'; never its contents. */
  secrets: Record<string, string>;
}

/**
 * The definition with its content hash over settings + inputs; an undeclared version becomes
 * the hash itself.
 */
export function withContentHash(def: FunctionDefinition, inputs?: FunctionInputDigests): FunctionDefinition {
  const h = createHash('sha256').update(settingsDigest(def));
  if (inputs) h.update(`\0code:${inputs.code}\0secrets:${canonical(inputs.secrets)}`);
  const contentHash = h.digest('hex').slice(0, CONTENT_HASH_LENGTH);
  return { ...def, contentHash, version: def.versionDeclared ? def.version : contentHash };
}
