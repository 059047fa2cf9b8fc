/** The stack lock file: taken once, refused while its holder lives, taken over when stale. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_PORTS } from '@faas/contracts';
import { type StackLock, acquireStackLock, refusalLine } from '../src/lock';

const info = (pid: number): StackLock => ({ pid, runId: `r${pid}`, stack: 'default', ports: { ...DEFAULT_PORTS }, startedAt: '2026-01-01T00:00:00Z' });

describe('acquireStackLock', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-lock-'));
  const file = path.join(dir, 'stack.json');

  it('refuses while the holder lives, with the one-line reason', () => {
    const first = acquireStackLock(file, info(100), () => true);
    assert.ok(first.acquired);
    const second = acquireStackLock(file, info(200), () => true);
    assert.ok(!second.acquired);
    assert.equal(refusalLine(second.holder), 'a stack is already running on 127.0.0.1:8080 (pid 100)');
    first.release();
    assert.ok(!fs.existsSync(file));
  });

  it('takes over a file whose pid is dead, or that cannot be parsed', () => {
    fs.writeFileSync(file, JSON.stringify(info(100)));
    const taken = acquireStackLock(file, info(300), (pid) => pid !== 100);
    assert.ok(taken.acquired);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).pid, 300);
    taken.release();
    fs.writeFileSync(file, '{"pid":');
    const again = acquireStackLock(file, info(400), () => true);
    assert.ok(again.acquired);
    again.release();
  });

  it('release leaves a file another launcher took over', () => {
    const mine = acquireStackLock(file, info(500), () => true);
    assert.ok(mine.acquired);
    fs.writeFileSync(file, JSON.stringify(info(600)));
    mine.release();
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).pid, 600);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
