export * from './processes';
export * from './launcher';
