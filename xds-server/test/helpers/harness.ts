/**
 * Conformance-test harness: a real xds-server with event capture, the HTTP control API,
 * plain gRPC backends, @grpc/grpc-js-xds channels (per-channel bootstrap), their CSDS view,
 * and the Debian python3-grpcio (C-core) client as a child process.
 */
import * as path from 'node:path';
import * as readline from 'node:readline';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';
import * as protoLoader from '@grpc/proto-loader';
import type { FunctionRouteSpec } from '@faas/contracts';
export { spec, startTestServer, type TestServer } from '../test-server';
import type { XdsEvent } from '../../src/router-stream';
import { PROTO_INCLUDE_DIRS } from '../../src/proto';

export const PYTHON = '/usr/bin/python3';
export const PY_CLIENT = path.resolve(__dirname, '../../../test/xds_client.py');

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll an async predicate until true or the deadline passes (then throw with `what`). */
export async function eventually(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms: ${what}`);
    await sleep(25);
  }
}

// ---------------- backends ----------------

/** Plain gRPC server answering any `/<fn>/ping` with its own id, counting hits. */
export class Backend {
  hits = 0;
  private constructor(readonly id: string, readonly port: number, private readonly server: grpc.Server) {}

  static async start(id: string, fns: string[]): Promise<Backend> {
    const server = new grpc.Server();
    const box: { b?: Backend } = {};
    const ident = (b: Buffer): Buffer => b;
    for (const fn of fns) {
      server.addService(
        { ping: { path: `/${fn}/ping`, requestStream: false, responseStream: false, requestSerialize: ident, requestDeserialize: ident, responseSerialize: ident, responseDeserialize: ident } },
        {
          ping: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
            if (box.b) box.b.hits++;
            cb(null, Buffer.from(id));
          },
        },
      );
    }
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const b = new Backend(id, port, server);
    box.b = b;
    return b;
  }

  endpoint(health: 'HEALTHY' | 'DRAINING' = 'HEALTHY'): FunctionRouteSpec['endpoints'][number] {
    return { id: this.id, address: '127.0.0.1', port: this.port, health };
  }

  close(): void {
    this.server.forceShutdown();
  }
}

// ---------------- @grpc/grpc-js-xds client ----------------

let xdsRegistered = false;

export function xdsBootstrap(grpcPort: number, nodeId: string): object {
  return {
    xds_servers: [{ server_uri: `127.0.0.1:${grpcPort}`, channel_creds: [{ type: 'insecure' }], server_features: [] }],
    node: { id: nodeId, cluster: 'faas-test', locality: {} },
  };
}

export type CallResult = { ok: true; reply: string } | { ok: false; code: string; details: string };

/** One xds:///fn-gw channel with its own XdsClient (per-channel bootstrap). */
export class GrpcJsXdsClient {
  readonly client: grpc.Client;

  constructor(grpcPort: number, readonly nodeId: string) {
    if (!xdsRegistered) {
      xds.register();
      xdsRegistered = true;
    }
    this.client = new grpc.Client('xds:///fn-gw', grpc.credentials.createInsecure(), {
      'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(xdsBootstrap(grpcPort, nodeId)),
    });
  }

  /** Make the channel resolve (and so open its ADS stream) without an RPC. */
  connect(): void {
    this.client.getChannel().getConnectivityState(true);
  }

  call(p: string, timeoutMs = 3000): Promise<CallResult> {
    const ident = (b: Buffer): Buffer => b;
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(p, ident, ident, Buffer.from('hi'), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) resolve({ ok: false, code: grpc.status[err.code] ?? String(err.code), details: err.details });
        else resolve({ ok: true, reply: (res ?? Buffer.alloc(0)).toString() });
      });
    });
  }

  async untilOk(p: string, expect: string | undefined, timeoutMs: number): Promise<CallResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.call(p, 2000);
      if (r.ok && (expect === undefined || r.reply === expect)) return r;
      if (Date.now() > deadline) return r;
      await sleep(30);
    }
  }

  close(): void {
    this.client.close();
  }
}

// ---------------- CSDS (the grpc-js-xds clients' own view) ----------------

export interface CsdsEntry { type_url: string; name: string; client_status: string; version_info: string; error_state: { details: string } | null }

type CsdsClient = grpc.Client & {
  FetchClientStatus(req: object, cb: (err: grpc.ServiceError | null, res?: { config: { node: { id: string } | null; generic_xds_configs: CsdsEntry[] }[] }) => void): void;
};

/** An admin server (addAdminServicesToServer) in the test process, and a CSDS client for it. */
export class Csds {
  private constructor(private readonly server: grpc.Server, private readonly client: CsdsClient) {}

  static async start(): Promise<Csds> {
    if (!xdsRegistered) {
      xds.register();
      xdsRegistered = true;
    }
    const server = new grpc.Server();
    grpc.addAdminServicesToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const def = protoLoader.loadSync('envoy/service/status/v3/csds.proto', {
      keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [...PROTO_INCLUDE_DIRS],
    });
    const svc = def['envoy.service.status.v3.ClientStatusDiscoveryService'] as unknown as grpc.ServiceDefinition;
    const Ctor = grpc.makeClientConstructor(svc, 'ClientStatusDiscoveryService');
    const client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as CsdsClient;
    return new Csds(server, client);
  }

  /** The resources the XdsClient of node `nodeId` holds, with their client status. */
  fetch(nodeId: string): Promise<CsdsEntry[]> {
    return new Promise((resolve, reject) => {
      this.client.FetchClientStatus({}, (err, res) => {
        if (err || !res) return reject(err ?? new Error('empty CSDS reply'));
        // Every XdsClient this process ever made is listed; closed ones too, so pick the last.
        const cfgs = res.config.filter((c) => c.node?.id === nodeId);
        resolve(cfgs.length === 0 ? [] : cfgs[cfgs.length - 1]!.generic_xds_configs);
      });
    });
  }

  close(): void {
    this.client.close();
    this.server.forceShutdown();
  }
}

export function shortType(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
}

// ---------------- python3-grpcio (C-core) client ----------------

export class PythonXdsClient {
  private seq = 0;
  private readonly waiting = new Map<number, (v: Record<string, unknown>) => void>();
  stderr = '';
  private exited = false;

  private constructor(private readonly proc: ChildProcessWithoutNullStreams, readonly nodeId: string) {
    const rl = readline.createInterface({ input: proc.stdout });
    rl.on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const id = typeof msg.id === 'number' ? msg.id : msg.event === 'ready' ? 0 : -1;
      const w = this.waiting.get(id);
      if (w) {
        this.waiting.delete(id);
        w(msg);
      }
    });
    proc.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    proc.on('exit', () => {
      this.exited = true;
      for (const w of this.waiting.values()) w({ error: `python client exited: ${this.stderr}` });
      this.waiting.clear();
    });
  }

  static async start(grpcPort: number, nodeId: string): Promise<PythonXdsClient> {
    const bootstrap = {
      xds_servers: [{ server_uri: `127.0.0.1:${grpcPort}`, channel_creds: [{ type: 'insecure' }], server_features: [] }],
      node: { id: nodeId, cluster: 'faas-test', locality: {} },
    };
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap), PYTHONUNBUFFERED: '1',
      // Between RPCs nothing polls the xDS channel's socket but C-core's backup poller
      // (5 s by default), so ACKs would lag 5 s behind each response.
      GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS: '20' };
    const proc = spawn(PYTHON, [PY_CLIENT], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const c = new PythonXdsClient(proc, nodeId);
    const ready = new Promise<Record<string, unknown>>((resolve) => c.waiting.set(0, resolve));
    const timeout = sleep(10_000).then(() => ({ error: 'python client did not start in 10 s' }));
    const r = await Promise.race([ready, timeout]);
    if ('error' in r) {
      c.close();
      throw new Error(`${String(r.error)} ${c.stderr}`);
    }
    return c;
  }

  private send(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`python client exited: ${this.stderr}`));
    const id = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.proc.stdin.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  async call(p: string, count = 1, timeoutS = 3): Promise<CallResult[]> {
    const r = await this.send({ op: 'call', path: p, count, timeout: timeoutS });
    if (!Array.isArray(r.results)) throw new Error(`python client: ${JSON.stringify(r)}`);
    return r.results as CallResult[];
  }

  async untilOk(p: string, expect: string | undefined, deadlineS: number): Promise<CallResult & { tries?: number }> {
    const r = await this.send({ op: 'until_ok', path: p, deadline: deadlineS, ...(expect === undefined ? {} : { expect }) });
    return r as unknown as CallResult & { tries?: number };
  }

  close(): void {
    if (this.exited) return;
    try {
      this.proc.stdin.end(`${JSON.stringify({ op: 'quit' })}\n`);
    } catch {
      // already gone
    }
    const p = this.proc;
    setTimeout(() => {
      if (!this.exited) p.kill('SIGKILL');
    }, 1500).unref();
  }
}

// ---------------- event-log queries ----------------

export type ResponseEvent = Extract<XdsEvent, { kind: 'response' }>;
export type AckEvent = Extract<XdsEvent, { kind: 'ack' }>;

/** Index of the first event at or after `from` matching pred, -1 when none. */
export function findEvent(events: XdsEvent[], from: number, pred: (e: XdsEvent) => boolean): number {
  for (let i = from; i < events.length; i++) if (pred(events[i]!)) return i;
  return -1;
}

export function isResponse(nodeId: string, type: string, pred: (e: ResponseEvent) => boolean = () => true): (e: XdsEvent) => boolean {
  return (e) => e.kind === 'response' && e.nodeId === nodeId && e.type === type && pred(e);
}

export function isAck(nodeId: string, type: string, version?: string): (e: XdsEvent) => boolean {
  return (e) => e.kind === 'ack' && e.nodeId === nodeId && e.type === type && (version === undefined || e.version === version);
}
