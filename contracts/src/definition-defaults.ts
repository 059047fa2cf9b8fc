/**
 * A FunctionDefinition with every default applied, for code that builds definitions without a
 * file (tests, benchmarks). The same defaults as the file schema, derived by parsing an empty
 * definition, so the two can never drift.
 */
import { type FunctionDefinition, parseDefinitions } from './definition';
import { withContentHash } from './definition-hash';

type Overrides = Partial<Omit<FunctionDefinition, 'scaling'>> & { scaling?: Partial<FunctionDefinition['scaling']> };

export function definitionWithDefaults(name: string, codeDir: string, overrides: Overrides = {}): FunctionDefinition {
  const [base] = parseDefinitions(`functions:\n  ${name}:\n    runtime: node\n    version: "1"\n    code: .\n`, '/definition-defaults.yml');
  if (!base) throw new Error(`definitionWithDefaults: invalid function name ${name}`);
  const { scaling, ...rest } = overrides;
  const merged: FunctionDefinition = { ...base, codeDir, ...rest, scaling: { ...base.scaling, ...scaling } };
  if (scaling?.targetConcurrency === undefined && rest.concurrency !== undefined) merged.scaling.targetConcurrency = rest.concurrency;
  // Other settings, another hash (as the file loader would compute, without the files).
  return rest.contentHash !== undefined ? merged : withContentHash(merged);
}
