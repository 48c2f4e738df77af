// nfsvol/testing: the lab as a testcontainers-style module for users' own test suites. An NFS
// server (nfs-ganesha in a container), real Docker hosts (qemu microVMs with a kernel NFS client)
// and a ready nfsvol cluster over both. Images are built from Debian packages on first use and
// cached ($NFSVOL_LAB_CACHE, else $XDG_CACHE_HOME/nfsvol-lab). See docs/testing.md.
export { NfsServerContainer, StartedNfsServerContainer, type NfsServerVersion } from '../lab/nfs-server.js';
export {
  DockerHost,
  startDockerHosts,
  type DockerHosts,
  type DockerHostSsh,
  type StartDockerHostsOptions,
} from './docker-hosts.js';
export {
  startCluster,
  type StartClusterOptions,
  type StartedCluster,
  type CliResult,
  type CliOptions,
} from './cluster.js';
export { LabError, LabCommandError, LabNotReadyError, type LabErrorCode } from '../lab/errors.js';
export type { ExecOptions, ExecResult } from '../lab/vm/ssh.js';
export { listLabResources, reapOrphans, type LabResources } from '../lab/session.js';
