import * as path from 'node:path';
import { FIXTURES_ROOT, conformanceSuite } from '../src/index';

// The Python runtime with the host's python3 (3.11, standard library only).
const server = path.resolve(__dirname, '..', '..', '..', 'python', 'server.py');
conformanceSuite({ name: 'python', command: process.env.FAAS_PYTHON ?? '/usr/bin/python3', args: ['-B', server], fixturesDir: path.join(FIXTURES_ROOT, 'python') });
