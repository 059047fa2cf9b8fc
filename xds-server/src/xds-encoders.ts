/** Planned responses to wire messages: the only place the two protocols' framing differs. */
import { TYPE_URLS } from './proto';
import { encodeSotwResponse } from './response-bytes';
import { contentBlock } from './stream-content';
import type { PlannedResponse } from './stream-state';
import type { DeltaDiscoveryResponse } from './generated/envoy/service/discovery/v3/DeltaDiscoveryResponse';

const identifier = (epoch: string): string => `faas-xds-server/${epoch}`;

/** SotW: a DiscoveryResponse framed from the content's pre-encoded resources block. */
export function encodeSotw(r: Extract<PlannedResponse, { protocol: 'sotw' }>, epoch: string): Buffer {
  return encodeSotwResponse({ version_info: r.version, type_url: TYPE_URLS[r.type], nonce: r.nonce, controlPlaneIdentifier: identifier(epoch) }, contentBlock(r.content));
}

/** Delta: upserts with per-resource versions (forced re-sends get a fresh one), removals. */
export function encodeDelta(r: Extract<PlannedResponse, { protocol: 'delta' }>, epoch: string): DeltaDiscoveryResponse {
  return {
    system_version_info: r.version, type_url: TYPE_URLS[r.type], nonce: r.nonce,
    // A forced re-send gets a fresh version so the client treats it as new.
    resources: r.upserts.map((e) => ({ name: e.name, version: r.forced.has(e.name) ? `${epoch}-${e.hash}-${r.version}` : `${epoch}-${e.hash}`, resource: e.any })),
    removed_resources: [...r.removals],
    control_plane: { identifier: identifier(epoch) },
  };
}

/** Names a response carries (for the 'response' event and logs). */
export function responseNames(r: PlannedResponse): { names: string[]; removed: string[] } {
  return r.protocol === 'sotw' ? { names: [...r.content.entries.keys()], removed: [] } : { names: r.upserts.map((e) => e.name), removed: [...r.removals] };
}
