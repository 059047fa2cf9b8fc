/**
 * Typed runtime errors. Same shape as @faas/contracts' FaasError (code + context), redefined
 * because the runtime ships without dependencies.
 */
export class RuntimeError extends Error {
  readonly code: string;
  readonly context: Record<string, unknown>;
  constructor(code: string, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
    this.code = code;
    this.context = context;
  }
}

/** A FAAS_* variable is missing or malformed. */
export class RuntimeConfigError extends RuntimeError {
  constructor(message: string, context: Record<string, unknown>) {
    super('invalid_env', message, context);
    this.name = 'RuntimeConfigError';
  }
}

/** The handler module could not be loaded or its export is not a function. */
export class HandlerLoadError extends RuntimeError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('handler_load_failed', message, context, { cause });
    this.name = 'HandlerLoadError';
  }
}
