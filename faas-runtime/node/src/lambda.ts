/**
 * Lambda style: the event a handler gets for an HTTP request is API Gateway's HTTP API (payload
 * format 2.0) event, so handlers written for AWS run unchanged; on the runtime interface
 * emulator's invoke path the event is the JSON body itself and the answer is the result as JSON.
 */
import type * as http from 'node:http';

export interface ApiGatewayV2Event {
  version: '2.0';
  routeKey: '$default';
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: '$default';
    stage: '$default';
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

export function apiGatewayEvent(req: http.IncomingMessage, target: { path: string; rawQuery: string }, headers: Record<string, string>, body: Buffer, requestId: string, now: number): ApiGatewayV2Event {
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(target.rawQuery)) query[k] = k in query ? `${query[k]},${v}` : v;
  const textual = body.length > 0 && TEXT_TYPES.test(headers['content-type'] ?? '');
  const event: ApiGatewayV2Event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: target.path,
    rawQueryString: target.rawQuery,
    headers,
    requestContext: {
      http: { method: req.method ?? 'GET', path: target.path, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '', userAgent: headers['user-agent'] ?? '' },
      requestId,
      routeKey: '$default',
      stage: '$default',
      timeEpoch: now,
    },
    isBase64Encoded: body.length > 0 && !textual,
  };
  if (headers.cookie !== undefined) event.cookies = headers.cookie.split(/;\s*/);
  if (Object.keys(query).length > 0) event.queryStringParameters = query;
  if (body.length > 0) event.body = body.toString(textual ? 'utf8' : 'base64');
  return event;
}

/** Lambda's error answer on the invoke path (no stack trace: that goes to the logs). */
export function lambdaErrorBody(err: Error): { errorMessage: string; errorType: string } {
  return { errorMessage: err.message, errorType: err.name || 'Error' };
}
