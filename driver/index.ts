export * from './common/errors.js';
export * from './nfs/index.js';
export * from './cluster/cluster.js';
export * from './core/config.js';
export type { ProgressEvent, ProgressListener, ErrorInfo } from './common/events.js';
export { HostPool, type HostOpener } from './attach/cluster-context.js';
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
} from './attach/hosts.js';
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
} from './cluster/volumes.js';
export type { SetClusterOptions, SetClusterResult } from './cluster/settings.js';
export type { HostSyncResult, SyncOptions, SyncReport } from './attach/reconcile.js';
export {
  validateName,
  validateNames,
  parseLabels,
  parseMode,
  parseId,
  MAX_NAME_BYTES,
} from './core/names.js';
export * from './core/registry/index.js';
export * from './attach/ssh/index.js';
export * from './attach/docker/index.js';
