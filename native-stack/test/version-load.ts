/** A function that answers its version, and a load that counts responses by version (rollout tests and bench). */
/** Answers `{version, slept}` after ?ms= milliseconds: the version is the image's FAAS_VERSION. */
export const VERSION_FN = `exports.handler = async (event) => {
  const ms = Math.min(Number(event.query.ms || 0), 10000);
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version: process.env.FAAS_VERSION, slept: ms }) };
};
`;
export interface VersionLoad {
  byVersion: Map<string, number>;
  failures: string[];
  /** Versions of the responses in the order they arrived, and when (performance.now()). */
  seen: string[];
  at: number[];
  stop(): Promise<void>;
}

/** `clients` concurrent clients, each sending one request after the other until stopped. */
export function versionLoad(url: string, clients: number): VersionLoad {
  let running = true;
  const out: VersionLoad = { byVersion: new Map(), failures: [], seen: [], at: [], stop: async () => undefined };
  const worker = async () => {
    while (running) {
      try {
        const res = await fetch(url);
        const body = await res.text();
        if (res.status !== 200) {
          out.failures.push(`${res.status} ${body.slice(0, 200)}`);
          continue;
        }
        const version = (JSON.parse(body) as { version: string }).version;
        out.byVersion.set(version, (out.byVersion.get(version) ?? 0) + 1);
        out.seen.push(version);
        out.at.push(performance.now());
      } catch (err) {
        out.failures.push(`fetch failed: ${String((err as { cause?: unknown }).cause ?? err)}`);
      }
    }
  };
  const workers = Array.from({ length: clients }, worker);
  out.stop = async () => {
    running = false;
    await Promise.all(workers);
  };
  return out;
}

