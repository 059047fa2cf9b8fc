import { FaasError } from '@faas/contracts';

/** envoy.yaml is unreadable or lacks something the stand-in needs. */
export class BootstrapError extends FaasError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('invalid_bootstrap', message, context);
    this.name = 'BootstrapError';
  }
}

/** An xDS resource the stand-in cannot use: the message becomes the NACK's error_detail. */
export class ResourceError extends FaasError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('invalid_resource', message, context);
    this.name = 'ResourceError';
  }
}
