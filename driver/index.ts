export * from './errors.js';
export * from './nfs/index.js';
export * from './cluster.js';
export * from './config.js';
export type { ProgressEvent, ProgressListener, ErrorInfo } from './events.js';
export { HostPool, type HostOpener } from './context.js';
export {
  parseSshAddress,
  type AddHostOptions,
  type AddHostResult,
  type HostCheck,
  type HostCheckResult,
  type HostSummary,
  type RemoveHostOptions,
  type RemoveHostResult,
  type TrustHostResult,
  type TrustQuestion,
} from './hosts.js';
export type {
  CreateVolumeOptions,
  CreateVolumesResult,
  VolumeOutcome,
  VolumeSummary,
  StreamVolumesOptions,
  VolumeDetails,
  RemoveVolumesOptions,
  RemoveVolumesResult,
  RemoveOutcome,
  MountOptions,
  UnmountOptions,
  UpdateVolumeOptions,
  UpdateVolumeResult,
} from './volumes.js';
export type { SetClusterOptions, SetClusterResult } from './cluster-settings.js';
export type { HostSyncResult, SyncOptions, SyncReport } from './sync.js';
export {
  validateName,
  validateNames,
  parseLabels,
  parseMode,
  parseId,
  MAX_NAME_BYTES,
} from './volume-name.js';
export * from './registry/index.js';
export * from './ssh/index.js';
export * from './docker/index.js';
