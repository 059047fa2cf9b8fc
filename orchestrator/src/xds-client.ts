/** Client of the xds-server control API (contracts/xds-control-api.ts). */
import { type ControlApiError, FaasError, type FunctionRouteSpec, type RolloutResult, authorizationHeader } from '@faas/contracts';

export class RolloutError extends FaasError {
  constructor(message: string, context: Record<string, unknown>) {
    super('rollout_failed', message, context);
    this.name = 'RolloutError';
  }
}

export class XdsClient {
  private readonly auth: Record<string, string>;

  /** `token`: the internal API secret (internal-auth.ts), sent on every call. */
  constructor(private readonly baseUrl: string, private readonly ackTimeoutMs: number, token: string) {
    this.auth = authorizationHeader(token);
  }

  /** Set a function's desired router state; resolves once every connected router ACKed it. */
  put(spec: FunctionRouteSpec): Promise<RolloutResult> {
    return this.call('PUT', spec.name, spec);
  }

  remove(fn: string): Promise<RolloutResult> {
    return this.call('DELETE', fn);
  }

  async list(): Promise<FunctionRouteSpec[]> {
    const res = await fetch(`${this.baseUrl}/v1/functions`, { headers: this.auth, signal: AbortSignal.timeout(this.ackTimeoutMs + 5000) });
    if (!res.ok) throw new RolloutError(`xds-server GET /v1/functions answered ${res.status}`, { status: res.status });
    return ((await res.json()) as { functions: FunctionRouteSpec[] }).functions;
  }

  async healthy(): Promise<boolean> {
    try {
      return (await fetch(`${this.baseUrl}/healthz`, { headers: this.auth, signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      // Unreachable is an answer here: the caller waits and asks again.
      return false;
    }
  }

  private async call(method: 'PUT' | 'DELETE', fn: string, body?: FunctionRouteSpec): Promise<RolloutResult> {
    const url = `${this.baseUrl}/v1/functions/${encodeURIComponent(fn)}?wait_ms=${this.ackTimeoutMs}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: body ? { ...this.auth, 'content-type': 'application/json' } : this.auth,
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.ackTimeoutMs + 5000),
      });
    } catch (err) {
      throw new RolloutError(`xds-server unreachable for ${method} ${fn}: ${(err as Error).message}`, { fn, method });
    }
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as RolloutResult;
    let e: Partial<ControlApiError> = {};
    try {
      e = JSON.parse(text) as ControlApiError;
    } catch {
      /* not JSON: keep the status */
    }
    throw new RolloutError(`xds-server refused ${method} ${fn}: ${res.status} ${e.error ?? ''} ${e.message ?? text.slice(0, 200)}`.trim(), {
      fn, method, status: res.status, error: e.error, router: e.router, detail: e.detail, pending: e.pending,
    });
  }
}
