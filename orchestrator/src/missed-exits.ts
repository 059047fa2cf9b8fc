/** Exits missed while Docker's event stream was down: compare what we track with what runs. */
import type { OwnedContainer } from './docker-driver';

/** Known container ids whose container is gone or no longer running (nor paused). */
export function missedExits(known: readonly string[], owned: readonly OwnedContainer[]): string[] {
  // Paused and created containers (warm tiers) are alive: Docker just does not call them running.
  const running = new Set(owned.filter((c) => c.running || c.paused || c.created).map((c) => c.containerId));
  return known.filter((id) => !running.has(id));
}
