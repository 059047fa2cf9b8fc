/** Shared pieces of the end-to-end tests: repo paths, definition files, containers by label. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import { LABELS } from '@faas/contracts';

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

export function containers(stack: string, fn?: string): Promise<Docker.ContainerInfo[]> {
  const label = [`${LABELS.stack}=${stack}`, ...(fn ? [`${LABELS.function}=${fn}`] : [])];
  return docker.listContainers({ all: true, filters: { label } });
}
