// Answers after `?ms=` milliseconds (0..10000, default 0), so load tests create real concurrency:
// each request holds one of the instance's concurrency slots for that long.
const MAX_MS = 10000;

const json = (statusCode, body) => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

exports.handler = async (event) => {
  const raw = event.query.ms;
  if (raw !== undefined && !/^\d{1,5}$/.test(raw)) {
    return json(400, { error: 'invalid_ms', message: `ms must be a whole number of milliseconds from 0 to ${MAX_MS}` });
  }
  const ms = raw === undefined ? 0 : Number(raw);
  if (ms > MAX_MS) {
    return json(400, { error: 'invalid_ms', message: `ms must be a whole number of milliseconds from 0 to ${MAX_MS}` });
  }
  const started = Date.now();
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  return json(200, { slept: ms, startedAt: started, requestId: event.requestId });
};
