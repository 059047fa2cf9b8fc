/** Base of the platform's typed errors: a stable code plus the context needed to act on it. */
export class FaasError extends Error {
  readonly code: string;
  readonly context: Record<string, unknown>;
  constructor(code: string, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FaasError';
    this.code = code;
    this.context = context;
  }
}
