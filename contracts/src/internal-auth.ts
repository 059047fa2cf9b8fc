/**
 * Shared secret for the internal HTTP APIs (xds-server's control API, redis-rest). Every caller
 * sends `authorization: Bearer <token>`; a call without it gets 401 `unauthorized` (JSON).
 * The token comes from FAAS_INTERNAL_TOKEN, or from the file named by FAAS_INTERNAL_TOKEN_FILE
 * (compose: a generated file mounted as a secret). The native stack generates one per run.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FaasError } from './errors';

export const INTERNAL_AUTH = {
  header: 'authorization',
  scheme: 'Bearer',
  env: 'FAAS_INTERNAL_TOKEN',
  fileEnv: 'FAAS_INTERNAL_TOKEN_FILE',
  /** At least 128 bits of hex. */
  pattern: /^[A-Za-z0-9_-]{32,256}$/,
} as const;

/** The token, or a FaasError naming the variable or file when it is missing or malformed. */
export function loadInternalToken(env: NodeJS.ProcessEnv = process.env): string {
  const file = env[INTERNAL_AUTH.fileEnv];
  let token = env[INTERNAL_AUTH.env];
  if ((token === undefined || token === '') && file) {
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new FaasError('invalid_env', `${INTERNAL_AUTH.fileEnv}=${file}: cannot read the internal token file`, { file }, { cause: err });
    }
  }
  if (token === undefined || token === '') {
    throw new FaasError('invalid_env', `the internal API token is missing: set ${INTERNAL_AUTH.env} or ${INTERNAL_AUTH.fileEnv}`, {});
  }
  if (!INTERNAL_AUTH.pattern.test(token)) {
    throw new FaasError('invalid_env', `the internal API token must be 32-256 of A-Z, a-z, 0-9, "_", "-"`, {});
  }
  return token;
}

export function authorizationHeader(token: string): Record<string, string> {
  return { [INTERNAL_AUTH.header]: `${INTERNAL_AUTH.scheme} ${token}` };
}

/** Constant-time check of an Authorization header value against the token. */
export function isAuthorized(headerValue: string | undefined, token: string): boolean {
  if (headerValue === undefined) return false;
  const expected = Buffer.from(`${INTERNAL_AUTH.scheme} ${token}`);
  const got = Buffer.from(headerValue);
  return got.length === expected.length && timingSafeEqual(got, expected);
}
