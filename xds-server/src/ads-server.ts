/**
 * The gRPC side: one @grpc/grpc-js server offering ADS in both flavours (SotW and delta).
 * Each call becomes a RouterStream; protocol errors end that call only, never the process.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@faas/contracts';
import { adsServerServiceDefinition } from './proto';
import { ListenError } from './errors';
import type { ControlPlane } from './control-plane';
import { StreamProtocolError, type Protocol, type RouterStream } from './router-stream';
import type { DiscoveryRequest__Output } from './generated/envoy/service/discovery/v3/DiscoveryRequest';
import type { DiscoveryResponse } from './generated/envoy/service/discovery/v3/DiscoveryResponse';
import type { DeltaDiscoveryRequest__Output } from './generated/envoy/service/discovery/v3/DeltaDiscoveryRequest';
import type { DeltaDiscoveryResponse } from './generated/envoy/service/discovery/v3/DeltaDiscoveryResponse';

/** Snapshots with 1,000+ functions exceed grpc-js's 4 MB default. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

type AnyCall = grpc.ServerDuplexStream<object, object>;

export interface AdsServer {
  server: grpc.Server;
  port: number;
  close(): Promise<void>;
}

export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

export async function startAdsServer(cp: ControlPlane, host: string, port: number, logger: Logger): Promise<AdsServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.keepalive_permit_without_calls': 1,
    // Ping routers so a half-dead connection (router gone, no FIN) is noticed and closed.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });
  const calls = new Set<AnyCall>();

  const serve = (protocol: Protocol, call: AnyCall, handle: (s: RouterStream, req: object) => void): void => {
    calls.add(call);
    let stream: RouterStream | null = cp.openStream(protocol, (msg: DiscoveryResponse | DeltaDiscoveryResponse | Buffer) => {
      if (!call.writable || call.destroyed) return;
      call.write(msg);
    });
    const finish = (): void => {
      calls.delete(call);
      if (stream !== null) cp.closeStream(stream);
      stream = null;
    };
    call.on('data', (req: object) => {
      if (stream === null) return;
      try {
        handle(stream, req);
        cp.afterRequest();
      } catch (err) {
        const e = err as Error;
        const code = err instanceof StreamProtocolError ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
        logger.warn('ads_stream_error', { protocol, message: e.message, nodeId: stream.nodeId });
        finish();
        call.emit('error', { code, details: e.message });
        call.end();
      }
    });
    call.on('end', () => {
      finish();
      call.end();
    });
    call.on('error', () => finish());
    call.on('close', () => finish());
    call.on('cancelled', () => finish());
  };

  const impl: grpc.UntypedServiceImplementation = {
    StreamAggregatedResources: (call: AnyCall) =>
      serve('sotw', call, (s, req) => s.onSotwRequest(req as DiscoveryRequest__Output)),
    DeltaAggregatedResources: (call: AnyCall) =>
      serve('delta', call, (s, req) => s.onDeltaRequest(req as DeltaDiscoveryRequest__Output)),
  };
  server.addService(adsServerServiceDefinition(), impl);
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(host, port), grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(new ListenError('grpc', host, port, err)) : resolve(p)));
  }).catch((err: unknown) => {
    server.forceShutdown();
    throw err;
  });

  return {
    server,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of calls) {
          try {
            c.end();
          } catch {
            /* already gone */
          }
        }
        // Streams were ended above; a client that keeps its connection open only delays us.
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 250);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
