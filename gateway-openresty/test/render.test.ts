import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLIENT_ERRORS, DEFAULT_MAX_BODY_BYTES, FUNCTION_NAME_PATTERN, FUNCTION_STATES, GATEWAY_API_ERROR_CODES, HEADERS, RESERVED_FUNCTION_NAMES } from '@faas/contracts';
import { GatewayError, luaString, pcreOf, renderConfig, writeConfig } from '../src/index';

const base = { prefix: '/tmp/faas-gw-render', port: 8080, redisRestPort: 7071, routerPort: 10000 };

test('debian flavor loads the Lua modules and Debian lua-resty-core; openresty flavor does not', () => {
  const deb = renderConfig({ ...base, flavor: 'debian', workers: 2 });
  assert.match(deb.nginxConf, /load_module \/usr\/share\/nginx\/modules\/ndk_http_module\.so;/);
  assert.match(deb.nginxConf, /load_module \/usr\/share\/nginx\/modules\/ngx_http_lua_module\.so;/);
  assert.match(deb.nginxConf, /\/usr\/share\/lua\/5\.1\/\?\.lua/);
  assert.match(deb.nginxConf, /worker_processes 2;/);
  assert.doesNotMatch(deb.nginxConf, /\{\{/);
  const ores = renderConfig({ ...base, flavor: 'openresty', resolver: '127.0.0.11', redisRestHost: 'redis-rest', routerHost: 'envoy' });
  assert.doesNotMatch(ores.nginxConf, /load_module/);
  assert.match(ores.nginxConf, /resolver 127\.0\.0\.11 ipv6=off;/);
  assert.match(ores.nginxConf, /server envoy:10000;/);
  assert.match(ores.luaConfig, /redis_rest_host = "redis-rest"/);
});

test('the Lua config carries the contracts name rule and reserved names', () => {
  const { luaConfig } = renderConfig({ ...base, wakeTimeoutMs: 1234 });
  assert.ok(luaConfig.includes(luaString(pcreOf(FUNCTION_NAME_PATTERN))));
  for (const n of RESERVED_FUNCTION_NAMES) assert.ok(luaConfig.includes(`["${n}"] = true`), n);
  assert.match(luaConfig, /wake_timeout_ms = 1234,/);
});

test('header names, states, error codes and the body limit come from contracts', () => {
  const { nginxConf, luaConfig } = renderConfig(base);
  for (const s of FUNCTION_STATES) assert.ok(luaConfig.includes(`["${s}"] = true`), s);
  for (const [code, e] of Object.entries(CLIENT_ERRORS)) assert.ok(luaConfig.includes(`["${code}"] = ${e.status}`), code);
  for (const code of GATEWAY_API_ERROR_CODES) assert.ok(luaConfig.includes(`["${code}"] = "${code}"`), code);
  assert.ok(luaConfig.includes('"upstream_http_x_faas_router_no_upstream"'));
  assert.ok(nginxConf.includes(`add_header ${HEADERS.heldMs} $faas_held_ms always;`));
  assert.ok(nginxConf.includes(`client_max_body_size ${DEFAULT_MAX_BODY_BYTES};`));
  assert.match(nginxConf, /^env FAAS_INTERNAL_TOKEN;$/m);
  assert.ok(nginxConf.includes('map $http_x_request_id $faas_request_id'));
  assert.match(renderConfig({ ...base, maxBodyBytes: 1000 }).nginxConf, /client_max_body_size 1000;/);
});

test('luaString and pcreOf', () => {
  assert.equal(pcreOf(/^[a-z]+$/), '^[a-z]+\\z');
  assert.equal(luaString('a"b\\c\n'), '"a\\"b\\\\c\\010"');
});

test('bad options are rejected with a GatewayError naming the option', () => {
  assert.throws(() => renderConfig({ ...base, port: 0 }), (e: unknown) => e instanceof GatewayError && /port/.test(e.message));
  assert.throws(() => renderConfig({ ...base, workers: 0 }), /workers/);
  assert.throws(() => renderConfig({ ...base, wakeTimeoutMs: 200_000 }), /wakeTimeoutMs/);
  assert.throws(() => renderConfig({ ...base, routerHost: 'a b' }), /routerHost/);
  assert.throws(() => renderConfig({ ...base, prefix: 'relative' }), /prefix/);
  assert.throws(() => renderConfig({ ...base, maxBodyBytes: 0 }), /maxBodyBytes/);
});

test('the rendered debian config passes nginx -t', { skip: !fs.existsSync('/usr/sbin/nginx') }, () => {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-gw-render-'));
  try {
    const conf = writeConfig(prefix, renderConfig({ ...base, prefix, accessLog: path.join(prefix, 'logs', 'access.log') }));
    execFileSync('/usr/sbin/nginx', ['-t', '-q', '-p', prefix, '-c', conf, '-g', 'daemon off;'], { stdio: 'pipe' });
  } finally {
    fs.rmSync(prefix, { recursive: true, force: true });
  }
});
