/** Typed errors of the xds-server, each with the context needed to act on it. */
import { FaasError, type ControlApiErrorCode } from '@faas/contracts';

/** An error the control API turns into a ControlApiError body with the given HTTP status. */
export class ControlApiFailure extends FaasError {
  readonly status: number;
  readonly apiCode: ControlApiErrorCode;
  constructor(status: number, apiCode: ControlApiErrorCode, message: string, context: Record<string, unknown> = {}) {
    super(apiCode, message, context);
    this.name = 'ControlApiFailure';
    this.status = status;
    this.apiCode = apiCode;
  }
}

/** One of the servers could not bind its address (port in use, address not local...). */
export class ListenError extends FaasError {
  readonly server: 'grpc' | 'http';
  readonly host: string;
  readonly port: number;
  constructor(server: 'grpc' | 'http', host: string, port: number, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const what = server === 'grpc' ? 'gRPC (ADS)' : 'HTTP control API';
    super('listen_failed', `xds-server could not listen for its ${what} on ${host}:${port}: ${why}`, { server, host, port }, { cause });
    this.name = 'ListenError';
    this.server = server;
    this.host = host;
    this.port = port;
  }
}

/** Bad desired state from outside (HTTP body, Redis): names the field that was wrong. */
export class InvalidSpecError extends ControlApiFailure {
  readonly field: string;
  constructor(field: string, message: string) {
    super(400, 'invalid_request', `${field}: ${message}`, { field });
    this.name = 'InvalidSpecError';
    this.field = field;
  }
}
