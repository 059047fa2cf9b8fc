export * from './config';
export * from './orchestrator';
export * from './route-spec';
export * from './wake';
export * from './adopt';
