/**
 * Names that several components must agree on: function names, xDS resource names,
 * container labels. Defined once here; every component imports them.
 */

/** Function names: DNS-label-like, and safe inside Envoy stat names (no '.' or ':'). */
export const FUNCTION_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
export const FUNCTION_NAME_RULE =
  'lowercase letters, digits and "-", starting with a letter, at most 40 characters';

/** Path segments the platform keeps for itself, so no function can shadow them. */
export const RESERVED_FUNCTION_NAMES: readonly string[] = ['healthz', 'admin', 'faas', 'metrics'];

export function isValidFunctionName(name: string): boolean {
  return FUNCTION_NAME_PATTERN.test(name) && !RESERVED_FUNCTION_NAMES.includes(name);
}

/** Docker labels put on every function container and image the platform creates. */
export const LABELS = {
  /** Function name. */
  function: 'faas.function',
  /** Function version from the definition file. */
  version: 'faas.version',
  /** Unique instance id (also the xDS endpoint id). */
  instance: 'faas.instance',
  /** Which platform stack owns the container: orchestrators touch only their own. */
  stack: 'faas.stack',
  /**
   * Which run of the stack created the container (FAAS_RUN_ID, new per `npm run stack`), so a
   * launcher's last-resort sweep never touches another run's containers.
   */
  run: 'faas.run',
  /** Hash of every build input, on images: equal hash means no rebuild. */
  inputsHash: 'faas.inputs-hash',
  /**
   * Hash of the definition fields a container was created with (limits, concurrency, timeout,
   * env, handler), on containers: a container with another hash is not adopted.
   */
  configHash: 'faas.config-hash',
  /** On a network sandbox (a container that only holds a network namespace): SANDBOX_ROLE. */
  role: 'faas.role',
  /** On a function container that joined a network sandbox: the sandbox's container id. */
  sandbox: 'faas.sandbox',
} as const;

/** LABELS.role of a network sandbox (orchestrator/src/network-sandboxes.ts). */
export const SANDBOX_ROLE = 'sandbox';

/** xDS resource names. */
/** Type URLs of the four xDS resource types (listeners, routes, clusters, endpoints). */
export const XDS_RESOURCE_TYPE_URLS = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;

export const XDS_NAMES = {
  /** Socket listener served to Envoy nodes. */
  envoyListener: 'http_ingress',
  /** api_listener served to gRPC xDS clients (tests); same routes as the Envoy listener. */
  grpcListener: 'fn-gw',
  /** The one RouteConfiguration shared by both listeners. */
  routeConfig: 'fn_routes',
  virtualHost: 'functions',
  /** HCM stat prefix: Envoy stats appear as http.ingress_http.* */
  statPrefix: 'ingress_http',
} as const;

/** Envoy cluster (and ClusterLoadAssignment) name of a function. */
export function clusterName(fn: string): string {
  return `fn-${fn}`;
}

/** Inverse of clusterName; undefined when the cluster is not a function cluster. */
export function functionOfCluster(cluster: string): string | undefined {
  if (!cluster.startsWith('fn-')) return undefined;
  const fn = cluster.slice(3);
  return isValidFunctionName(fn) ? fn : undefined;
}

/** Port the function runtime listens on inside its container. */
export const RUNTIME_PORT = 8080;

/** Runtime's own endpoints, outside any function's path space. */
export const RUNTIME_PATHS = {
  ready: '/_faas/ready',
  stats: '/_faas/stats',
} as const;

/** HTTP headers the platform sets. */
export const HEADERS = {
  requestId: 'x-request-id',
  /** Milliseconds the gateway held a request while its function woke up. */
  heldMs: 'x-faas-held-ms',
  /** With heldMs: the warm tier that served the wake (wake-tier.ts: paused, created, cold). */
  wakeTier: 'x-faas-wake-tier',
  /** Set ('1') by the router on its own replies for no healthy upstream (UH) or no route (NR). */
  routerNoUpstream: 'x-faas-router-no-upstream',
} as const;
