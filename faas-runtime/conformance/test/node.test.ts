import * as path from 'node:path';
import { FIXTURES_ROOT, conformanceSuite } from '../src/index';

// The Node runtime as built by tsc: dist/src/server.js of @faas/runtime-node.
const server = path.resolve(__dirname, '..', '..', '..', 'node', 'dist', 'src', 'server.js');
conformanceSuite({ name: 'node', command: process.execPath, args: [server], fixturesDir: path.join(FIXTURES_ROOT, 'node') });
