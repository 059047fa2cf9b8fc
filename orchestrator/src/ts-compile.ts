/**
 * TypeScript handlers (Node runtime): compiled on the host, before the docker build, with the
 * workspace's `typescript` compiler API, in memory (nothing is written into the user's folder).
 * The full type checker runs, so a type error fails the build with the compiler's messages.
 * `typescript` rather than esbuild: esbuild only strips types and would let a type error through.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as TS from 'typescript';

/** A code folder is TypeScript when it has a tsconfig.json or the handler module is a .ts file (and no .js twin). */
export function isTypeScriptFunction(relFiles: readonly string[], handler: string): boolean {
  const mod = handler.slice(0, handler.lastIndexOf('.'));
  const has = new Set(relFiles);
  return has.has('tsconfig.json') || (has.has(`${mod}.ts`) && !has.has(`${mod}.js`));
}

/** Is this file replaced by the compiler's output in the image? (.d.ts files only inform the checker.) */
export function isTypeScriptSource(rel: string): boolean {
  return rel.endsWith('.ts');
}

function resolveFrom(spec: string): string | undefined {
  try {
    return require.resolve(spec);
  } catch {
    return undefined; // not installed next to the orchestrator: the caller degrades
  }
}

/** Compiler version and @types/node version, part of the image inputs hash (another compiler may emit other code). */
export function typeScriptToolchain(): string {
  const version = (spec: string): string => {
    const file = resolveFrom(spec);
    return file ? String((JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown }).version) : 'absent';
  };
  return `typescript@${version('typescript/package.json')} @types/node@${version('@types/node/package.json')}`;
}

export class TypeScriptCompileError extends Error {
  constructor(message: string, readonly diagnostics: string[]) {
    super(message);
    this.name = 'TypeScriptCompileError';
  }
}

/** Settings the image needs whatever tsconfig says: CommonJS (the runtime require()s the handler), emitted JS only. */
function forcedOptions(ts: typeof TS, codeDir: string, outDir: string): TS.CompilerOptions {
  return {
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    rootDir: codeDir,
    outDir,
    noEmit: false,
    noEmitOnError: true,
    declaration: false,
    declarationMap: false,
    emitDeclarationOnly: false,
    composite: false,
    incremental: false,
    sourceMap: false,
    inlineSourceMap: false,
  };
}

/** Defaults for a folder without tsconfig.json (or for what its tsconfig leaves unset). */
function defaultOptions(ts: typeof TS): TS.CompilerOptions {
  const typesNode = resolveFrom('@types/node/package.json');
  return {
    target: ts.ScriptTarget.ES2022,
    // No DOM types: a handler runs in Node, and lib.dom.d.ts alone doubles the compile time.
    lib: ['lib.es2022.d.ts'],
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    // Node's types from the orchestrator's install, so `Buffer`, `process` type-check in any folder.
    ...(typesNode ? { types: ['node'], typeRoots: [path.dirname(path.dirname(typesNode))] } : { types: [] }),
  };
}

/**
 * Type-checks and compiles every .ts file of `codeDir` (or what its tsconfig.json includes).
 * Returns the emitted JavaScript by path relative to codeDir; throws TypeScriptCompileError
 * with the formatted diagnostics on any error.
 */
export async function compileTypeScript(codeDir: string): Promise<Map<string, Buffer>> {
  const ts = (await import('typescript')).default;
  const outDir = path.join(codeDir, '.faas-ts-out'); // virtual: emit goes to memory
  const configFile = path.join(codeDir, 'tsconfig.json');
  let options: TS.CompilerOptions = defaultOptions(ts);
  let rootNames: string[];
  const formatHost: TS.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => codeDir, getNewLine: () => '\n' };
  if (fs.existsSync(configFile)) {
    const read = ts.readConfigFile(configFile, (f) => ts.sys.readFile(f));
    if (read.error) throw new TypeScriptCompileError('tsconfig.json is invalid', [ts.formatDiagnostic(read.error, formatHost).trim()]);
    const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, codeDir, undefined, configFile);
    if (parsed.errors.length > 0) throw new TypeScriptCompileError('tsconfig.json is invalid', parsed.errors.map((d) => ts.formatDiagnostic(d, formatHost).trim()));
    options = { ...options, ...parsed.options };
    rootNames = parsed.fileNames;
  } else {
    rootNames = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.')) walk(path.join(dir, e.name));
        else if (e.isFile() && isTypeScriptSource(e.name)) rootNames.push(path.join(dir, e.name));
      }
    };
    walk(codeDir);
  }
  options = { ...options, ...forcedOptions(ts, codeDir, outDir) };
  const program = ts.createProgram({ rootNames, options });
  const emitted = new Map<string, Buffer>();
  const result = program.emit(undefined, (fileName, text) => {
    const rel = path.relative(outDir, fileName).split(path.sep).join('/');
    if (!rel.startsWith('..') && rel.endsWith('.js')) emitted.set(rel, Buffer.from(text));
  });
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics].filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (diagnostics.length > 0 || result.emitSkipped) {
    const lines = diagnostics.map((d) => ts.formatDiagnostic(d, formatHost).trim());
    throw new TypeScriptCompileError(`TypeScript compile failed with ${diagnostics.length} error(s)`, lines.length > 0 ? lines : ['emit skipped']);
  }
  return emitted;
}
