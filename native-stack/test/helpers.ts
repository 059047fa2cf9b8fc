/** Shared pieces of the end-to-end tests: repo paths, definition files, containers by label. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
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

/** The repository's definitions of these examples, each code folder copied next to the file; `extra` is more YAML under `functions:`. */
export function writeExampleDefinitions(dir: string, names: readonly string[], extra = ''): string {
  const text = fs.readFileSync(path.join(root, 'global-function-definition.yml'), 'utf8');
  const lines = text.split('\n');
  const out = ['functions:'];
  let keep = false;
  for (const line of lines) {
    const head = /^ {2}([a-z][a-z0-9-]*):\s*$/.exec(line);
    if (head) keep = names.includes(head[1] as string);
    else if (!line.startsWith('    ')) keep = false;
    if (keep) out.push(line.replace(/^( {4}code: )(.*)$/, (_, k: string, v: string) => `${k}${copyCode(dir, path.join(root, v))}`));
  }
  const file = path.join(dir, 'defs.yml');
  fs.writeFileSync(file, `${out.join('\n')}\n${extra}`);
  return file;
}
