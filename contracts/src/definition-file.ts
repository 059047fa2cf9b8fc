/** Reading the definition file from disk: the I/O edge around parseDefinitions. */
import * as fs from 'node:fs';
import { DefinitionError, type FunctionDefinition, parseDefinitions } from './definition';

/** Read, validate, and check that every function's code directory and handler module exist. */
export function loadDefinitionFile(file: string): FunctionDefinition[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new DefinitionError([{ file, message: `cannot read: ${(err as Error).message}` }]);
  }
  const defs = parseDefinitions(text, file);
  const missing = defs.flatMap((d) => {
    if (!fs.existsSync(d.codeDir) || !fs.statSync(d.codeDir).isDirectory()) {
      return [{ file, function: d.name, field: 'code', message: `directory ${d.codeDir} does not exist` }];
    }
    const mod = d.handler.slice(0, d.handler.lastIndexOf('.'));
    // Node: .ts handlers are compiled at image build (orchestrator/src/ts-compile.ts).
    const exts = d.runtime === 'python' ? ['.py', '/__init__.py'] : ['', '.js', '.cjs', '.mjs', '.ts'];
    const candidates = exts.map((e) => `${d.codeDir}/${mod}${e}`);
    if (!candidates.some((c) => fs.existsSync(c) && fs.statSync(c).isFile())) {
      return [{ file, function: d.name, field: 'handler', message: `module "${mod}" not found in ${d.codeDir}` }];
    }
    return [];
  });
  if (missing.length > 0) throw new DefinitionError(missing);
  return defs;
}
