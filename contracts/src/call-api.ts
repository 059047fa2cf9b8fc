/**
 * Functions calling functions (`call(name, args)`, Funker's style): what a caller sends through
 * the platform's public entry (the gateway) and what the runtimes read from it. The clients
 * (`@faas/call` for Node, `faas_call.py` for Python) ship without dependencies, so they repeat
 * these values; their unit tests check they are equal to these.
 */
import { HEADERS } from './names';

export const CALL_HEADERS = {
  /** The caller's request id, so a chain of calls shares one id in every log. */
  requestId: HEADERS.requestId,
  /**
   * How many calls deep this request is: absent for a client's request (depth 0), the caller's
   * depth + 1 on each call. The gateway refuses a depth above CALL_MAX_DEPTH.
   */
  depth: 'x-faas-call-depth',
  /**
   * Milliseconds left of the caller's deadline when the call was sent (relative, so clocks need
   * not agree). The callee's runtime takes the smaller of it and its own timeout.
   */
  deadlineMs: 'x-faas-deadline-ms',
} as const;

/** Deepest allowed chain: a request at depth 9 is refused with 508 `call_depth_exceeded`. */
export const CALL_MAX_DEPTH = 8;

/** Header values: whole numbers, at most this many digits (anything else is 400 invalid_request). */
export const CALL_HEADER_PATTERN = /^[0-9]{1,9}$/;

/** Environment of every function container (and of a host-side client). */
export const CALL_ENV = {
  /** The platform's entry for calls: `unix:/run/faas-call/gateway.sock` or `http://gateway:8080`. */
  url: 'FAAS_CALL_URL',
} as const;

/**
 * Native stack: the gateway also listens on a unix socket in a directory of the stack's state
 * dir; the orchestrator bind-mounts that directory read-only into each function container at
 * `containerDir`. The directory, not the file: a restarted nginx re-creates the socket.
 */
export const CALL_SOCKET = {
  containerDir: '/run/faas-call',
  fileName: 'gateway.sock',
} as const;

/** `unix:<path>` as FAAS_CALL_URL for a socket path. */
export function unixCallUrl(socketPath: string): string {
  return `unix:${socketPath}`;
}

/** FAAS_CALL_URL inside a container of the native stack. */
export const CONTAINER_CALL_URL = unixCallUrl(`${CALL_SOCKET.containerDir}/${CALL_SOCKET.fileName}`);
