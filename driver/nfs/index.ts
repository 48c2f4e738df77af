export type * from './types.js';
export { NfsClient, type NfsClientOptions } from './client.js';
export { NfsError, MountError } from './nfs-error.js';
export { RpcError, RpcTimeoutError } from './rpc/rpc-error.js';
export { XdrError } from './xdr/xdr-error.js';
export { parseNfsUrl, formatNfsUrl, type NfsTarget } from './nfs-url.js';
export { Nfs4Client, Nfs4OwnerError, type Nfs4ClientOptions } from './nfs4/client.js';
export { connectNfsUrl, type ConnectOptions } from './connect.js';
