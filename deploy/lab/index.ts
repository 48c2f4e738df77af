// The lab: a real NFS server (nfs-ganesha in a container) and real Docker hosts (qemu microVMs
// with a kernel NFS client, sshd and dockerd), built from Debian packages by deploy/lab/build.sh.
// Used by the integration tests and the demo. See docs/lab.md.
export {
  startNfsServer,
  NfsServerContainer,
  StartedNfsServerContainer,
  type NfsServer,
  type NfsServerVersion,
  type NfsSquash,
  type StartNfsServerOptions,
} from './nfs-server.js';
export { startHosts, type LabHost, type StartHostsOptions } from './hosts.js';
export type { ExecResult, ExecOptions } from './vm/ssh.js';
export { LabError, LabCommandError, LabNotReadyError, type LabErrorCode } from './errors.js';
export { buildImages, labCacheDir, pollUntil, run, type BuildTarget, type RunResult } from './util.js';
export { listLabResources, reapOrphans, LabSession, SESSION_LABEL, type LabResources } from './session.js';
export { RPC_PROGRAM, rpcbindGetPort, rpcNull } from './rpc-probe.js';
