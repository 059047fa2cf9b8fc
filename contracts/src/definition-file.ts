/**
 * Reading the definition file from disk: the I/O edge around parseDefinitions. Checks what only
 * the disk can tell (code folders exist and lie inside the file's directory tree, handler
 * modules exist, secret files are readable) and hashes code and secrets into each definition's
 * content hash (definition-hash.ts).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DefinitionError, type DefinitionIssue, type FunctionDefinition, parseDefinitions } from './definition';
import { withContentHash } from './definition-hash';
import { lineFinder } from './definition-lines';

/** Never part of a function's image (build-context.ts skips them too), so never part of its hash. */
const SKIP_DIRS = new Set(['node_modules', '.git', '__pycache__']);

/** Digest of the regular files under dir (relative paths and contents, in sorted order). */
export function codeFolderDigest(dir: string): string {
  const h = createHash('sha256');
  const walk = (abs: string, rel: string): void => {
    const entries = fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(path.join(abs, e.name), childRel);
      } else if (e.isFile()) {
        const data = fs.readFileSync(path.join(abs, e.name));
        h.update(`${childRel}\0${data.length}\0`).update(data);
      }
    }
  };
  walk(dir, '');
  return h.digest('hex');
}

/** True when `child` (already resolved) is `parent` or below it. */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** "secrets.db.key" -> ['secrets', 'db.key']: only the first dot separates (secret names may hold dots). */
const fieldPath = (field: string | undefined): string[] => {
  if (field === undefined) return [];
  const dot = field.indexOf('.');
  return dot < 0 ? [field] : [field.slice(0, dot), field.slice(dot + 1)];
};

type Problem = Omit<DefinitionIssue, 'file' | 'function' | 'line'>;

/** What the disk says about one function: its problems, or the digests of its inputs. */
function inspect(d: FunctionDefinition, treeRoot: string): { problems: Problem[] } | { code: string; secrets: Record<string, string> } {
  if (!fs.existsSync(d.codeDir) || !fs.statSync(d.codeDir).isDirectory()) {
    return { problems: [{ field: 'code', message: `directory ${d.codeDir} does not exist` }] };
  }
  // Symlinks resolved: a link inside the tree pointing out of it is refused too.
  const real = fs.realpathSync(d.codeDir);
  if (!isInside(treeRoot, real)) {
    return { problems: [{ field: 'code', message: `directory ${real} is outside ${treeRoot}, the definition file's directory tree` }] };
  }
  const mod = d.handler.slice(0, d.handler.lastIndexOf('.'));
  // Node: .ts handlers are compiled at image build (orchestrator/src/ts-compile.ts).
  const exts = d.runtime === 'python' ? ['.py', '/__init__.py'] : ['', '.js', '.cjs', '.mjs', '.ts'];
  if (!exts.some((e) => fs.existsSync(`${real}/${mod}${e}`) && fs.statSync(`${real}/${mod}${e}`).isFile())) {
    return { problems: [{ field: 'handler', message: `module "${mod}" not found in ${d.codeDir}` }] };
  }
  const secrets: Record<string, string> = {};
  for (const [name, file] of Object.entries(d.secrets)) {
    // Identity of the file, not a digest of its contents: a version label (which the hash may
    // become) must not let anyone test guesses of a short secret offline. A rewrite changes it.
    // An unreadable file is no definition error: the orchestrator names it (secret_unreadable)
    // and keeps only that function from starting; it appearing later changes the hash.
    try {
      const st = fs.statSync(file);
      secrets[name] = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      secrets[name] = `unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
    }
  }
  return { code: codeFolderDigest(real), secrets };
}

/**
 * Read, validate, check every function against the disk and hash its inputs. Throws
 * DefinitionError naming file, line, function and field of every problem.
 */
export function loadDefinitionFile(file: string): FunctionDefinition[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new DefinitionError([{ file, message: `cannot read: ${(err as Error).message}` }]);
  }
  const defs = parseDefinitions(text, file);
  const treeRoot = fs.realpathSync(path.dirname(path.resolve(file)));
  const line = lineFinder(text);
  const issues: DefinitionIssue[] = [];
  const out: FunctionDefinition[] = [];
  for (const d of defs) {
    const r = inspect(d, treeRoot);
    if ('problems' in r) {
      issues.push(...r.problems.map((p) => ({ file, line: line(['functions', d.name, ...fieldPath(p.field)]), function: d.name, ...p })));
    } else {
      out.push(withContentHash(d, r));
    }
  }
  if (issues.length > 0) throw new DefinitionError(issues);
  return out;
}
