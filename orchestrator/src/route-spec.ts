/** The router state of a function, derived from its definition and instances. Pure. */
import type { EndpointSpec, FunctionDefinition, FunctionRouteSpec } from '@faas/contracts';

export type InstanceStatus = 'ready' | 'draining';

export interface RoutableInstance {
  id: string;
  address: string;
  port: number;
  status: InstanceStatus;
}

export function routeSpec(def: FunctionDefinition, instances: Iterable<RoutableInstance>): FunctionRouteSpec {
  const endpoints: EndpointSpec[] = [...instances]
    .map((i) => ({ id: i.id, address: i.address, port: i.port, health: i.status === 'ready' ? ('HEALTHY' as const) : ('DRAINING' as const) }))
    .sort((a, b) => a.id.localeCompare(b.id));
  return { name: def.name, timeoutMs: def.timeoutMs, concurrency: def.concurrency, endpoints };
}
