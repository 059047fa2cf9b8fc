import { FaasError } from '@faas/contracts';

/** Bad gateway options, a failed nginx start or a config that nginx rejects. */
export class GatewayError extends FaasError {
  constructor(code: 'invalid_option' | 'render_failed' | 'nginx_failed', message: string, context: Record<string, unknown> = {}) {
    super(code, message, context);
    this.name = 'GatewayError';
  }
}
