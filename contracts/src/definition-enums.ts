/** The closed sets of values a definition's fields take. */
export const RUNTIMES = ['node', 'python'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** `http`: handler(request) -> {statusCode, headers, body}; `lambda`: AWS's handler(event, context). */
export const HANDLER_STYLES = ['http', 'lambda'] as const;
export type HandlerStyle = (typeof HANDLER_STYLES)[number];

/**
 * What an idle instance becomes after its drain: `paused` (docker pause; a wake unpauses it),
 * `created` (removed, and a stopped container created ahead so a wake only starts it), `none`.
 */
export const WARM_TIERS = ['paused', 'created', 'none'] as const;
export type WarmTier = (typeof WARM_TIERS)[number];
