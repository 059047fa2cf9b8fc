/** Shared pieces of the end-to-end tests: repo paths, definition files, containers by label. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import { parse, stringify } from 'yaml';
import { LABELS, SANDBOX_ROLE } from '@faas/contracts';

export const root = path.resolve(__dirname, '../../..');
export const docker = new Docker();

/**
 * Copy a function's code folder into dir (under code/<name>) and answer its path relative to
 * dir: a definition file refuses code outside its own directory tree.
 */
export function copyCode(dir: string, src: string, name = path.basename(src)): string {
  const rel = path.join('code', name);
  fs.cpSync(src, path.join(dir, rel), { recursive: true, force: true });
  return rel;
}

/**
 * A definition file for the example functions (code from functions/<name> unless `code` is
 * given; runtime node unless given), with each code folder copied next to it.
 */
export function writeDefinitions(dir: string, fns: Record<string, Record<string, string | number>>): string {
  const file = path.join(dir, 'defs.yml');
  const body = Object.entries(fns)
    .map(([name, fields]) => [
      `  ${name}:`,
      `    runtime: ${fields.runtime ?? 'node'}`,
      `    code: ${copyCode(dir, String(fields.code ?? path.join(root, 'functions', name)), name)}`,
      ...Object.entries(fields).filter(([k]) => k !== 'code' && k !== 'runtime').map(([k, v]) => `    ${k}: ${typeof v === 'string' ? JSON.stringify(v) : v}`),
    ].join('\n'))
    .join('\n');
  fs.writeFileSync(file, `functions:\n${body}\n`);
  return file;
}

/** A stack's function containers (of one function when `fn` is given); network sandboxes are not among them. */
export async function containers(stack: string, fn?: string): Promise<Docker.ContainerInfo[]> {
  const label = [`${LABELS.stack}=${stack}`, ...(fn ? [`${LABELS.function}=${fn}`] : [])];
  return (await docker.listContainers({ all: true, filters: { label } })).filter((c) => c.Labels[LABELS.role] !== SANDBOX_ROLE);
}

/** A stack's network sandboxes (orchestrator/src/network-sandboxes.ts). */
export function sandboxes(stack: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${stack}`, `${LABELS.role}=${SANDBOX_ROLE}`] } });
}

/**
 * The 127.0.0.1 port a function container is reached on: its own published port, or that of the
 * network sandbox it joined (label faas.sandbox). Undefined when it has none (not running).
 */
export async function hostPortOf(containerId: string): Promise<number | undefined> {
  const info = await docker.getContainer(containerId).inspect();
  const holder = info.Config.Labels?.[LABELS.sandbox];
  const net = holder ? (await docker.getContainer(holder).inspect()).NetworkSettings : info.NetworkSettings;
  const port = Number(net.Ports?.['8080/tcp']?.[0]?.HostPort);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** The orchestrator's default number of ready network sandboxes (FAAS_NETWORK_SANDBOXES). */
export const SANDBOX_POOL = 2;

/** Function entries as a definition file holds them, by function name. */
export type Definitions = Record<string, Record<string, unknown>>;

/**
 * The repository's entries of these examples (global-function-definition.yml), each code folder
 * copied into dir (a definition file refuses code outside its own tree); a secret kept in a
 * code folder points at its copy. Paths are relative to dir: write the file there.
 */
export function exampleDefinitions(dir: string, names: readonly string[]): Definitions {
  const all = (parse(fs.readFileSync(path.join(root, 'global-function-definition.yml'), 'utf8')) as { functions: Definitions }).functions;
  return Object.fromEntries(names.map((n) => {
    const entry = all[n];
    if (!entry) throw new Error(`no example "${n}" in global-function-definition.yml`);
    const d = { ...entry };
    const from = path.join(root, String(d.code));
    const to = copyCode(dir, from, n);
    d.code = to;
    if (d.secrets) d.secrets = Object.fromEntries(Object.entries(d.secrets as Record<string, string>).map(([k, v]) => [k, path.join(to, path.relative(from, path.join(root, v)))]));
    return [n, d];
  }));
}

/** dir/defs.yml holding these functions; its path. */
export function writeDefinitionFile(dir: string, defs: Definitions): string {
  const file = path.join(dir, 'defs.yml');
  fs.writeFileSync(file, stringify({ functions: defs }));
  return file;
}

/** The repository's definitions of these examples (exampleDefinitions), with `extra` entries, written as dir/defs.yml. */
export function writeExampleDefinitions(dir: string, names: readonly string[], extra: Definitions = {}): string {
  return writeDefinitionFile(dir, { ...exampleDefinitions(dir, names), ...extra });
}
