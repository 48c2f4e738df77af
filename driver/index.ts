/*
 * nfsvol's public API: what the package promises to keep, and all that the CLI and the lab may
 * import (the layer rules in .dependency-cruiser.cjs hold them to it). Everything else under
 * driver/ is internal and may change in any release. docs/architecture.md says what each layer
 * holds.
 */

// Errors: one catalogue of codes, each with a category and whether a retry can help.
export {
  NfsvolError,
  ValidationError,
  InterruptedError,
  isRetriable,
  categoryOf,
  errorSpec,
  isErrorCode,
  ERRORS,
  type ErrorCode,
  type ErrorCategory,
  type ProtocolStatus,
  type NfsvolErrorOptions,
} from './common/errors.js';
export {
  CorruptRecordError,
  NewerSchemaError,
  IncompleteRecordError,
  RecordExistsError,
  RecordNotFoundError,
  NotInitializedError,
  LockTimeoutError,
  LockLostError,
} from './core/registry/errors.js';
export {
  SshCommandError,
  SshConnectError,
  SshTimeoutError,
  HostKeyMismatchError,
  HostKeyUnknownError,
  HostUntrustedError,
} from './attach/ssh/errors.js';

// The NFS client (NFSv3 and NFSv4.1) and its file-system API.
export * from './nfs/index.js';

// The cluster: volumes on the export, hosts over SSH, their Docker definitions and mounts.
export {
  Cluster,
  connectNfs,
  openSshHost,
  type ClusterOptions,
  type InitOptions,
  type NfsConnector,
} from './cluster/cluster.js';
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
  UpdateVolumeOptions,
  UpdateVolumeResult,
} from './cluster/volumes.js';
export type { SetClusterOptions, SetClusterResult } from './cluster/settings.js';
export type { MountOptions, UnmountOptions, ReleaseOptions } from './attach/mounts.js';
export type { SyncOptions } from './attach/reconcile.js';
export type { HostSyncResult, SyncReport } from './attach/sync-result.js';
export {
  parseSshAddress,
  type SshAddress,
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
export type { HostOpener } from './attach/cluster-context.js';
// A host-local front end (the Docker volume plugin): this machine as a host, and the volumes as
// one host's plugin serves them.
export { LocalHost } from './attach/local-host.js';
export { HostCommandError, LocalCommandError } from './attach/ssh/errors.js';
export { HostVolumes, type HostVolume, type HostVolumeSpec } from './cluster/host-volumes.js';
export type { ProgressEvent, ProgressListener, ErrorInfo } from './common/events.js';

// What a volume is: names, labels, modes, mount options, and the records on the export.
export { validateName, validateNames, MAX_NAME_BYTES } from './core/names.js';
export { parseLabels, parseMode, parseId } from './core/volume-fields.js';
export { parseMountOptions, validateMountPath } from './core/mount-options.js';
export {
  validateAddress,
  type DeletePolicy,
  type NfsVersion,
  type NfsSettings,
  type VolumeRecord,
  type HostRecord,
  type HostKey,
  type MountRecord,
} from './core/records.js';
export { MANAGED_LABEL, CLUSTER_LABEL } from './attach/docker/volume-options.js';

// This machine's settings: the config file the CLI keeps.
export {
  CONFIG_SCHEMA_VERSION,
  ConfigNotFoundError,
  resolveConfigPath,
  loadConfig,
  saveConfig,
  type LocalConfig,
  type LocalHostSettings,
  type ConfigPathOptions,
} from './core/config.js';

// SSH as nfsvol speaks it (ssh2, OpenSSH's config and known_hosts), for front ends and the lab.
export { SshHost, type SshHostOptions, type SshTarget } from './attach/ssh/ssh-host.js';
export {
  knownHostsVerifier,
  pinnedKeyVerifier,
  type HostKeyVerifier,
  type KnownHostsVerifierOptions,
} from './attach/ssh/host-key-policy.js';
export type { RemoteHost, RunOptions, RunResult } from './attach/ssh/remote-host.js';
export { shellQuote, quoteArgv } from './attach/ssh/shell-quote.js';
export { hostKeyOf } from './attach/ssh/known-hosts.js';
export type { SshLocalOptions } from './attach/ssh/ssh-config.js';

// Tracing (`--debug`, NODE_DEBUG=nfsvol).
export { setDebug, debugEnabled, debugSectionEnabled, type DebugWriter } from './common/debug.js';
