export * from './errors.js';
export { Registry, type RegistryOptions } from './registry.js';
export { RecordCollection, type KeysSummary, type ListOptions } from './collection.js';
