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

/** Bad desired state from outside (HTTP body, Redis): names the field that was wrong. */
export class InvalidSpecError extends ControlApiFailure {
  readonly field: string;
  constructor(field: string, message: string) {
    super(400, 'invalid_request', `${field}: ${message}`, { field });
    this.name = 'InvalidSpecError';
    this.field = field;
  }
}
