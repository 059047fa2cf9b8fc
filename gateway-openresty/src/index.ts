/**
 * The nginx + Lua gateway: renders its config into a temp prefix dir and runs nginx there.
 * Exports startGateway for tests and the stack launcher, and the pure renderer for other uses.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { INTERNAL_AUTH, type Logger, createLogger, loadInternalToken } from '@faas/contracts';
import { type FileTail, type LogSink, spawnNginx, tailFile, waitHealthy } from './nginx-process';
import { type RenderOptions, renderConfig, writeConfig } from './render';

export { renderConfig, writeConfig, luaString, pcreOf, DEFAULT_LUA_DIR, TEMPLATE_PATH, type RenderOptions, type RenderedConfig, type NginxFlavor } from './render';
export { GatewayError } from './errors';
export type { LogSink } from './nginx-process';

/** The nginx settings startGateway passes through to renderConfig unchanged. */
type ForwardedRenderOptions = Pick<RenderOptions,
  'workers' | 'redisRestHost' | 'redisRestPort' | 'routerHost' | 'routerPort' | 'wakeTimeoutMs' | 'routerTimeoutS'
  | 'flavor' | 'luaDir' | 'user' | 'syncWaitMs' | 'resolver' | 'errorLogLevel' | 'maxBodyBytes' | 'callSocket'>;

export interface GatewayOptions extends ForwardedRenderOptions {
  /** Shared secret for redis-rest (contracts/internal-auth.ts); sent on every call, never logged. Default: loadInternalToken() from this process's env. */
  internalToken?: string;
  /** 0 or absent: a free port is not chosen for you; default 8080 like the native stack. */
  port?: number;
  host?: string;
  /** nginx binary (default /usr/sbin/nginx). */
  nginxBin?: string;
  /** Write JSON access log lines (default true): nginx writes <prefix>/logs/access.log, which is followed and passed to onLog as 'stdout'. */
  accessLog?: boolean;
  /** Access log lines (JSON) and nginx error log lines; default: access lines to stdout, errors as JSON log events. */
  onLog?: LogSink;
  logger?: Logger;
  startTimeoutMs?: number;
}

export interface Gateway {
  port: number;
  /** The temp prefix dir (conf/nginx.conf inside), removed by stop(). */
  prefix: string;
  pid: number | undefined;
  /** Settles when the nginx master exits, whether stopped or crashed. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

/** The socket's directory exists; a socket left by a killed nginx is removed (bind would fail). */
function prepareCallSocket(socket: string): void {
  fs.mkdirSync(path.dirname(socket), { recursive: true, mode: 0o755 });
  fs.rmSync(socket, { force: true });
}

/**
 * nginx creates the socket with its umask and has no mode option: function containers run as
 * uid 10001, and connecting needs write permission on the socket, so it is opened to all. The
 * socket is reachable only where its directory is mounted (the orchestrator mounts it read-only).
 */
function openCallSocket(socket: string): void {
  fs.chmodSync(socket, 0o666);
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const logger = opts.logger ?? createLogger('gateway');
  const internalToken = opts.internalToken ?? loadInternalToken();
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8080;
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-gateway-'));
  const cleanup = () => fs.rmSync(prefix, { recursive: true, force: true });
  const accessLogFile = opts.accessLog === false ? undefined : path.join(prefix, 'logs', 'access.log');
  const stderrLines: string[] = [];
  const sink: LogSink = (line, stream) => {
    if (stream === 'stderr') {
      stderrLines.push(line);
      if (stderrLines.length > 20) stderrLines.shift();
    }
    if (opts.onLog) return opts.onLog(line, stream);
    if (stream === 'stdout') process.stdout.write(`${line}\n`);
    else logger.warn('nginx_log', { line });
  };
  try {
    const rendered = renderConfig({
      prefix, listenHost: host, port, workers: opts.workers, redisRestHost: opts.redisRestHost, redisRestPort: opts.redisRestPort,
      routerHost: opts.routerHost, routerPort: opts.routerPort, wakeTimeoutMs: opts.wakeTimeoutMs, routerTimeoutS: opts.routerTimeoutS,
      flavor: opts.flavor, luaDir: opts.luaDir, user: opts.user, syncWaitMs: opts.syncWaitMs, errorLogLevel: opts.errorLogLevel,
      resolver: opts.resolver, maxBodyBytes: opts.maxBodyBytes, callSocket: opts.callSocket,
      accessLog: accessLogFile ?? 'off',
    });
    if (opts.callSocket !== undefined) prepareCallSocket(opts.callSocket);
    const conf = writeConfig(prefix, rendered);
    const tail: FileTail | undefined = accessLogFile ? tailFile(accessLogFile, (l) => sink(l, 'stdout')) : undefined;
    // Only through the environment: a token rendered into the config would sit on disk under the prefix.
    const env: NodeJS.ProcessEnv = { ...process.env, [INTERNAL_AUTH.env]: internalToken };
    delete env[INTERNAL_AUTH.fileEnv];
    const nginx = spawnNginx(opts.nginxBin ?? '/usr/sbin/nginx', prefix, conf, sink, env);
    const stopAll = async () => {
      await nginx.stop();
      await tail?.stop();
    };
    try {
      await waitHealthy(nginx, host, port, opts.startTimeoutMs ?? 10_000, () => stderrLines.join(' | '));
      if (opts.callSocket !== undefined) openCallSocket(opts.callSocket);
    } catch (err) {
      await stopAll();
      throw err;
    }
    let stopped: Promise<void> | undefined;
    return {
      port,
      prefix,
      pid: nginx.child.pid,
      exited: nginx.exited,
      stop() {
        stopped ??= stopAll().finally(cleanup);
        return stopped;
      },
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}
