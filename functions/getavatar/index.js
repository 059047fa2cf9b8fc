// HTTP style, Node: a deterministic identicon PNG for a GitHub-like login, made here (no outside
// network): GET /getavatar?login=octocat[&size=120], or POST {"login": "octocat", "size": 120}.
// The same login always gives the same image: a mirrored 5x5 grid and a colour from its SHA-256.
const crypto = require('node:crypto');
const zlib = require('node:zlib');

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const GRID = 5;

function badRequest(message, requestId) {
  return { statusCode: 400, headers: { 'content-type': 'application/json' }, body: { error: 'invalid_request', message, fn: 'getavatar', requestId } };
}

function argsOf(event) {
  if (event.method === 'POST' && event.body.length > 0) {
    const parsed = JSON.parse(event.body.toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the body must be a JSON object such as {"login": "octocat"}');
    return { login: parsed.login, size: parsed.size };
  }
  return { login: event.query.login, size: event.query.size === undefined ? undefined : Number(event.query.size) };
}

/** HSL (h in [0, 360), s and l in [0, 1]) to 8-bit RGB. */
function rgb(h, s, l) {
  const k = (n) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n) => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)))));
  return [f(0), f(8), f(4)];
}

/** Which cells of the 5x5 grid are filled: 15 bits for the left three columns, mirrored. */
function cells(hash) {
  const on = [];
  for (let y = 0; y < GRID; y++) {
    const row = [];
    for (let x = 0; x < 3; x++) {
      const bit = y * 3 + x;
      row.push(((hash[bit >> 3] >> (bit & 7)) & 1) === 1);
    }
    on.push([row[0], row[1], row[2], row[1], row[0]]);
  }
  return on;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** An RGB PNG of size x size pixels. */
function identicon(login, size) {
  const hash = crypto.createHash('sha256').update(login.toLowerCase()).digest();
  const fg = rgb((hash.readUInt16BE(2) % 360), 0.55, 0.55);
  const bg = [240, 240, 240];
  const grid = cells(hash);
  const cell = Math.floor(size / (GRID + 1));
  const pad = Math.floor((size - cell * GRID) / 2);
  const rowBytes = 1 + size * 3;
  const raw = Buffer.alloc(rowBytes * size);
  for (let y = 0; y < size; y++) {
    raw[y * rowBytes] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const gx = Math.floor((x - pad) / cell);
      const gy = Math.floor((y - pad) / cell);
      const filled = x >= pad && y >= pad && gx < GRID && gy < GRID && grid[gy][gx];
      const [r, g, b] = filled ? fg : bg;
      const at = y * rowBytes + 1 + x * 3;
      raw[at] = r; raw[at + 1] = g; raw[at + 2] = b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

exports.handler = async (event, context) => {
  let args;
  try {
    args = argsOf(event);
  } catch (err) {
    return badRequest(`invalid JSON body: ${err.message}`, context.requestId);
  }
  const { login } = args;
  const size = args.size === undefined ? 120 : args.size;
  if (typeof login !== 'string' || !LOGIN.test(login)) return badRequest('login must be a GitHub login: letters, digits and "-", 1-39 characters', context.requestId);
  if (!Number.isInteger(size) || size < 12 || size > 512) return badRequest('size must be a whole number of pixels from 12 to 512', context.requestId);
  // One JSON line per request: a chain of calls shares the caller's request id.
  console.log(JSON.stringify({ ts: new Date().toISOString(), level: 'info', component: 'function', event: 'avatar', fn: 'getavatar', requestId: context.requestId, callDepth: context.callDepth, login, size }));
  return {
    statusCode: 200,
    headers: { 'content-type': 'image/png', 'cache-control': 'public, max-age=86400', 'x-avatar-login': login },
    body: identicon(login, size),
  };
};
