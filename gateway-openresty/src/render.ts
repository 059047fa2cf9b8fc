/**
 * Renders the gateway's nginx.conf and its Lua config module from options. Pure: strings in,
 * strings out. Header names, the maximum body and the Lua config come from @faas/contracts, so the
 * gateway and every other component share one definition.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_MAX_BODY_BYTES, GATEWAY_API_QUERY, HEADERS, INSTANCE_FAILURE_QUERY, INTERNAL_AUTH, ROUTER_FAILURE_REDIRECT } from '@faas/contracts';
import { GatewayError } from './errors';
import { headerVar, renderLuaConfig } from './lua-config';

export { luaString, pcreOf } from './lua-config';

export type NginxFlavor = 'debian' | 'openresty';

export interface RenderOptions {
  /** Absolute prefix dir: pid, temp paths and the generated Lua module live under it. */
  prefix: string;
  listenHost?: string;
  port: number;
  workers?: number;
  redisRestHost?: string;
  redisRestPort: number;
  routerHost?: string;
  routerPort: number;
  /** Longest a request is held while its function wakes (default 30000). */
  wakeTimeoutMs?: number;
  /** Outer bound for router answers, seconds (default 300); the router enforces function timeouts. */
  routerTimeoutS?: number;
  /** Directory of the gateway's Lua files (default: the package's lua/). */
  luaDir?: string;
  flavor?: NginxFlavor;
  /** `user` directive; only meaningful when nginx starts as root (default: root when we are root). */
  user?: string | null;
  /** DNS resolver for cosocket connects to names (compose: 127.0.0.11). */
  resolver?: string;
  /** Largest request body in bytes (default contracts' DEFAULT_MAX_BODY_BYTES, 6 MiB). */
  maxBodyBytes?: number;
  /** 'off' or a path; default /dev/stdout. */
  accessLog?: string;
  errorLogLevel?: 'debug' | 'info' | 'notice' | 'warn' | 'error';
  workerConnections?: number;
  /** Long poll length of the state sync (default 25000). */
  syncWaitMs?: number;
  /**
   * Also listen on this unix socket (absolute path): the functions' path to the platform for
   * call() in the native stack (contracts/src/call-api.ts), mounted into their containers.
   */
  callSocket?: string;
}

export interface RenderedConfig {
  nginxConf: string;
  /** Content of faas_config.lua, to be written to `genDir`. */
  luaConfig: string;
  genDir: string;
}

export const PACKAGE_DIR = path.resolve(__dirname, '..', '..');
export const DEFAULT_LUA_DIR = path.join(PACKAGE_DIR, 'lua');
export const TEMPLATE_PATH = path.join(PACKAGE_DIR, 'nginx', 'nginx.conf.template');
/** Where Debian's nginx Lua module and lua-resty-core live (the module requires resty.core). */
export const DEBIAN_MODULES = ['/usr/share/nginx/modules/ndk_http_module.so', '/usr/share/nginx/modules/ngx_http_lua_module.so'];
export const DEBIAN_LUA_PATH = '/usr/share/lua/5.1/?.lua';
/** Debian's lua-cjson, for the common multiarch triplets (OpenResty has cjson built in). */
export const DEBIAN_LUA_CPATH = ['x86_64-linux-gnu', 'aarch64-linux-gnu'].map((t) => `/usr/lib/${t}/lua/5.1/?.so`).join(';');

function intOpt(name: string, v: number | undefined, fallback: number, min: number, max: number): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n < min || n > max) throw new GatewayError('invalid_option', `option ${name}=${String(v)} must be a whole number from ${min} to ${max}`, { name, value: v });
  return n;
}

function hostOpt(name: string, v: string | undefined, fallback: string): string {
  const h = v ?? fallback;
  if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(h)) throw new GatewayError('invalid_option', `option ${name}=${JSON.stringify(h)} is not a host name or address`, { name, value: h });
  return h;
}

function pathOpt(name: string, v: string): string {
  if (!path.isAbsolute(v) || /[\s;"'{}$\\]/.test(v)) throw new GatewayError('invalid_option', `option ${name}=${JSON.stringify(v)} must be an absolute path without spaces, quotes, ';', '{', '}', '$' or '\\'`, { name, value: v });
  return v;
}

export function renderConfig(opts: RenderOptions, template: string = fs.readFileSync(TEMPLATE_PATH, 'utf8')): RenderedConfig {
  const prefix = pathOpt('prefix', opts.prefix);
  const luaDir = pathOpt('luaDir', opts.luaDir ?? DEFAULT_LUA_DIR);
  const genDir = path.join(prefix, 'lua-gen');
  const flavor = opts.flavor ?? 'debian';
  if (flavor !== 'debian' && flavor !== 'openresty') throw new GatewayError('invalid_option', `option flavor=${String(flavor)} must be 'debian' or 'openresty'`);
  const port = intOpt('port', opts.port, 0, 1, 65535);
  const workers = intOpt('workers', opts.workers, 2, 1, 64);
  const redisRestPort = intOpt('redisRestPort', opts.redisRestPort, 0, 1, 65535);
  const routerPort = intOpt('routerPort', opts.routerPort, 0, 1, 65535);
  const wake = GATEWAY_API_QUERY.wakeTimeoutMs;
  const wakeTimeoutMs = intOpt('wakeTimeoutMs', opts.wakeTimeoutMs, wake.fallback, wake.min, wake.max);
  const routerTimeoutS = intOpt('routerTimeoutS', opts.routerTimeoutS, 300, 1, 3600);
  const workerConnections = intOpt('workerConnections', opts.workerConnections, 4096, 64, 65535);
  const syncWaitMs = intOpt('syncWaitMs', opts.syncWaitMs, GATEWAY_API_QUERY.waitMs.fallback, 100, GATEWAY_API_QUERY.waitMs.max);
  const listenHost = hostOpt('listenHost', opts.listenHost, '127.0.0.1');
  const redisRestHost = hostOpt('redisRestHost', opts.redisRestHost, '127.0.0.1');
  const routerHost = hostOpt('routerHost', opts.routerHost, '127.0.0.1');
  const maxBodyBytes = intOpt('maxBodyBytes', opts.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 1, 2 ** 31 - 1);
  const accessLog = opts.accessLog ?? '/dev/stdout';
  if (accessLog !== 'off') pathOpt('accessLog', accessLog);
  const level = opts.errorLogLevel ?? 'warn';
  if (!['debug', 'info', 'notice', 'warn', 'error'].includes(level)) throw new GatewayError('invalid_option', `option errorLogLevel=${level} is not a log level`);
  const user = opts.user === undefined ? (process.getuid?.() === 0 ? 'root' : null) : opts.user;
  if (user !== null && !/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new GatewayError('invalid_option', `option user=${JSON.stringify(user)} is not a user name`);
  if (opts.resolver !== undefined) hostOpt('resolver', opts.resolver, '');

  const luaPaths = [`${luaDir}/?.lua`, `${genDir}/?.lua`];
  if (flavor === 'debian') luaPaths.push(DEBIAN_LUA_PATH);
  luaPaths.push(';'); // ';;' = the module's default path

  const values: Record<string, string> = {
    load_modules: flavor === 'debian' ? DEBIAN_MODULES.map((m) => `load_module ${m};`).join('\n') : '# openresty: lua and ndk modules are built in',
    user_directive: user === null ? '' : `user ${user};`,
    workers: String(workers),
    prefix,
    error_log_level: level,
    worker_connections: String(workerConnections),
    lua_path: luaPaths.join(';'),
    lua_cpath: flavor === 'debian' ? `${DEBIAN_LUA_CPATH};;` : ';;',
    token_env: INTERNAL_AUTH.env,
    request_id_var: `$${headerVar('http_', HEADERS.requestId)}`,
    header_request_id: HEADERS.requestId,
    header_held_ms: HEADERS.heldMs,
    header_wake_tier: HEADERS.wakeTier,
    auth_header: INTERNAL_AUTH.header,
    resolver: opts.resolver ? `resolver ${opts.resolver} ipv6=off;` : '',
    access_log: accessLog === 'off' ? 'off' : `${accessLog} faas_json`,
    router_host: routerHost,
    router_port: String(routerPort),
    redis_rest_host: redisRestHost,
    redis_rest_port: String(redisRestPort),
    listen: `${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`,
    call_listen: opts.callSocket === undefined ? '# no call socket' : `listen unix:${pathOpt('callSocket', opts.callSocket)};`,
    max_body_bytes: String(maxBodyBytes),
    // Above the wake deadline: redis-rest answers 504 at the deadline, nginx must not cut it first.
    wake_read_timeout: `${Math.ceil(wakeTimeoutMs / 1000) + 5}s`,
    router_timeout: `${routerTimeoutS}s`,
    failure_location: ROUTER_FAILURE_REDIRECT.location,
    // Above redis-rest's longest hold of a failure lookup (it answers at wait_ms).
    failure_read_timeout: `${Math.ceil(INSTANCE_FAILURE_QUERY.waitMs.max / 1000) + 2}s`,
  };
  const nginxConf = template.replace(/\{\{([a-z_]+)\}\}/g, (_m, key: string) => {
    const v = values[key];
    if (v === undefined) throw new GatewayError('render_failed', `template placeholder {{${key}}} has no value`, { key });
    return v;
  });

  const luaConfig = renderLuaConfig({ wakeTimeoutMs, redisRestHost, redisRestPort, syncWaitMs, maxBodyBytes });
  return { nginxConf, luaConfig, genDir };
}

/** Write a rendered config under its prefix: conf/nginx.conf, lua-gen/faas_config.lua, tmp/. Returns the conf path. */
export function writeConfig(prefix: string, rendered: RenderedConfig): string {
  for (const d of ['conf', 'logs', 'tmp', rendered.genDir]) fs.mkdirSync(path.resolve(prefix, d), { recursive: true });
  const conf = path.join(prefix, 'conf', 'nginx.conf');
  fs.writeFileSync(conf, rendered.nginxConf);
  fs.writeFileSync(path.join(rendered.genDir, 'faas_config.lua'), rendered.luaConfig);
  return conf;
}
