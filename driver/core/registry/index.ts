export * from './errors.js';
export * from '../records.js';
export { Registry, RecordCollection, type RegistryOptions } from './registry.js';
