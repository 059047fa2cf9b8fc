// A TypeScript handler: compiled (and type-checked) by the orchestrator at image build, so a
// type error fails the build instead of a request. `greeting.ts` shows a local import.
import { greeting } from './greeting';

/** The parts of the runtime's HTTP-style event this function reads (faas-runtime/CONTRACT.md). */
interface FaasEvent {
  query: Record<string, string>;
  body: Buffer;
}

interface FaasContext {
  functionName: string;
  functionVersion: string;
}

interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export const handler = async (event: FaasEvent, context: FaasContext): Promise<HttpResult> => ({
  statusCode: 200,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'x-function-version': context.functionVersion },
  body: greeting(event.query.name ?? 'world'),
});
