/**
 * Strict walk of every resource the builder emits against protobufjs reflection:
 * protobufjs silently drops unknown fields, unknown enum values and Anys of unloaded
 * types, so this test is what catches a resource Envoy would see differently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { PROTO_FILES, PROTO_INCLUDE_DIRS, RouteConfigCache, buildSnapshot, type ResourceEntry, type Snapshot } from '../src/index';
import { spec } from './test-server';

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const dir of PROTO_INCLUDE_DIRS) {
      const p = path.join(dir, target);
      if (fs.existsSync(p)) return p;
    }
    return target;
  };
  root.loadSync([...PROTO_FILES], { keepCase: true });
  root.resolveAll();
  return root;
}

const root = loadRoot();

/** Returns problems found in `value` as a message of `type`, each with its path. */
export function strictWalk(type: protobuf.Type, value: unknown, at: string, out: string[]): void {
  if (type.fullName === '.google.protobuf.Any') {
    const o = value as Record<string, unknown>;
    const url = o['@type'];
    if (typeof url !== 'string') {
      out.push(`${at}: Any without @type`);
      return;
    }
    let inner: protobuf.Type;
    try {
      inner = root.lookupType(url.slice(url.lastIndexOf('/') + 1));
    } catch {
      out.push(`${at}: Any type ${url} is not loaded`);
      return;
    }
    const rest = { ...o };
    delete rest['@type'];
    strictWalk(inner, rest, `${at}<${inner.name}>`, out);
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    out.push(`${at}: expected a ${type.name} object, got ${JSON.stringify(value)}`);
    return;
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = type.fields[key];
    if (field === undefined) {
      out.push(`${at}.${key}: unknown field of ${type.fullName}`);
      continue;
    }
    if (v === undefined || v === null) continue;
    const p = `${at}.${key}`;
    if (field.map) {
      for (const [k, mv] of Object.entries(v as Record<string, unknown>)) walkValue(field, mv, `${p}[${k}]`, out);
    } else if (field.repeated) {
      if (!Array.isArray(v)) out.push(`${p}: expected an array`);
      else v.forEach((x, i) => walkValue(field, x, `${p}[${i}]`, out));
    } else {
      walkValue(field, v, p, out);
    }
  }
}

function walkValue(field: protobuf.Field, v: unknown, at: string, out: string[]): void {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) {
    strictWalk(rt, v, at, out);
  } else if (rt instanceof protobuf.Enum) {
    const ok = typeof v === 'string' ? v in rt.values : typeof v === 'number' && Object.values(rt.values).includes(v);
    if (!ok) out.push(`${at}: ${JSON.stringify(v)} is not a value of enum ${rt.fullName}`);
  } else {
    const t = field.type;
    const ok =
      t === 'string' ? typeof v === 'string'
        : t === 'bool' ? typeof v === 'boolean'
          : t === 'bytes' ? Buffer.isBuffer(v) || typeof v === 'string'
            : ['double', 'float'].includes(t) ? typeof v === 'number'
              : ['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'].includes(t) ? (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))
                : typeof v === 'number' && Number.isInteger(v) && (!t.startsWith('u') && !t.startsWith('fixed') || v >= 0);
    if (!ok) out.push(`${at}: ${JSON.stringify(v)} is not a valid ${t}`);
  }
}

function allEntries(snap: Snapshot): ResourceEntry[] {
  const cache = new RouteConfigCache();
  const fns = [...snap.functions.values()];
  return [
    snap.listeners.envoy,
    snap.listeners.grpc,
    cache.get(fns.map((e) => ({ name: e.spec.name, routes: e.routes, routeHash: e.routeHash }))),
    cache.get([]),
    cache.get([], true),
    ...fns.flatMap((e) => [e.cluster, e.cla]),
  ];
}

test('every emitted resource uses only known fields, enum values and loaded Any types', () => {
  const snap = buildSnapshot(
    [
      spec('alpha', [['127.0.0.1', 9001], ['10.1.2.3', 8080, 'DRAINING']], { timeoutMs: 1500, concurrency: 4 }),
      spec('beta', [['::1', 9002]], { timeoutMs: 60_000 }),
      spec('empty', []),
    ],
    { epoch: 'test', routerAddress: '0.0.0.0', routerPort: 10000 },
  );
  const entries = allEntries(snap);
  assert.equal(entries.length, 11);
  const problems: string[] = [];
  for (const e of entries) {
    const type = root.lookupType(e.any.type_url.slice(e.any.type_url.lastIndexOf('/') + 1));
    strictWalk(type, e.resource, `${e.type}:${e.name}`, problems);
    // And the bytes decode back to a message whose nested Anys all resolve.
    const decoded = type.toObject(type.decode(e.any.value), { defaults: false });
    const anyUrls = JSON.stringify(decoded).match(/"type_url":"[^"]+"/g) ?? [];
    for (const u of anyUrls) {
      const url = u.slice(12, -1);
      try {
        root.lookupType(url.slice(url.lastIndexOf('/') + 1));
      } catch {
        problems.push(`${e.type}:${e.name}: encoded Any ${url} not resolvable`);
      }
    }
    if (e.any.value.length === 0) problems.push(`${e.type}:${e.name}: encoded to nothing`);
  }
  assert.deepEqual(problems, []);
  // The fields added later survive encoding (a dropped field would be missing here).
  const hcmUrl = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
  const hcmAny = root.lookupType('envoy.config.listener.v3.Listener').decode(snap.listeners.envoy.any.value) as unknown as { filter_chains: { filters: { typed_config: { type_url: string; value: Uint8Array } }[] }[] };
  const tc = hcmAny.filter_chains[0]!.filters[0]!.typed_config;
  assert.equal(tc.type_url, hcmUrl);
  const hcm = root.lookupType(hcmUrl.slice(hcmUrl.lastIndexOf('/') + 1)).toObject(root.lookupType(hcmUrl.slice(hcmUrl.lastIndexOf('/') + 1)).decode(tc.value), { enums: String });
  assert.deepEqual(hcm.local_reply_config.mappers[0].filter.response_flag_filter.flags, ['UH']);
  assert.equal(hcm.local_reply_config.mappers[0].status_code.value, 503);
  assert.equal(hcm.local_reply_config.body_format.json_format.fields.requestId.stringValue, '%REQ(X-REQUEST-ID)%');
  assert.equal(hcm.local_reply_config.mappers.find((m: { filter: { status_code_filter?: unknown } }) => m.filter.status_code_filter !== undefined).filter.status_code_filter.comparison.value.runtime_key, 'faas.local_reply.status_431');
  assert.equal(hcm.local_reply_config.mappers[0].headers_to_add[0].append_action, 'OVERWRITE_IF_EXISTS_OR_ADD');
  const cluster = root.lookupType('envoy.config.cluster.v3.Cluster');
  const alpha = cluster.toObject(cluster.decode(snap.functions.get('alpha')!.cluster.any.value), { enums: String });
  assert.deepEqual(alpha.circuit_breakers.per_host_thresholds, [{ priority: 'DEFAULT', max_connections: { value: 4 } }]);
});

test('the strict walk itself catches unknown fields, bad enums and unloaded Anys', () => {
  const cluster = root.lookupType('envoy.config.cluster.v3.Cluster');
  const problems: string[] = [];
  strictWalk(cluster, {
    name: 'x',
    typo_field: 1,
    type: 'NOT_A_TYPE',
    load_balancing_policy: { policies: [{ typed_extension_config: { name: 'n', typed_config: { '@type': 'type.googleapis.com/nope.Missing' } } }] },
  }, 'c', problems);
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems.join('\n'), /typo_field/);
  assert.match(problems.join('\n'), /NOT_A_TYPE/);
  assert.match(problems.join('\n'), /nope\.Missing/);
});
