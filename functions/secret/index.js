// Checks a token against a secret mounted by the platform at /run/secrets/<SECRET_NAME> (see
// demo-token.secret and README "Secrets"). POST {"token":"..."} -> {"match":true|false};
// GET -> {"configured":true|false}. The secret itself is never answered or logged.
const crypto = require('node:crypto');
const fs = require('node:fs');

const json = (statusCode, value) => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
// Equal-length digests, so the comparison takes the same time whatever the token.
const digest = (s) => crypto.createHash('sha256').update(s).digest();

function readSecret() {
  const name = process.env.SECRET_NAME || 'api-token';
  try {
    // Read per request: a file is cheap, and nothing keeps the value around.
    return fs.readFileSync(`/run/secrets/${name}`, 'utf8').replace(/\r?\n$/, '');
  } catch {
    return undefined; // not mounted: answered as "not configured" below
  }
}

exports.handler = async (event) => {
  const secret = readSecret();
  if (event.method === 'GET') return json(200, { configured: secret !== undefined });
  if (secret === undefined) return json(500, { error: 'secret_missing', message: 'the secret is not mounted' });
  let token;
  try {
    token = JSON.parse(event.body.toString('utf8')).token;
  } catch {
    token = undefined; // not JSON: answered as invalid input just below
  }
  if (typeof token !== 'string') return json(400, { error: 'invalid_input', message: 'the body must be JSON such as {"token":"..."}' });
  return json(200, { match: crypto.timingSafeEqual(digest(token), digest(secret)) });
};
