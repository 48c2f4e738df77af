import { NfsvolError } from '../common/errors.js';
import { NfsClient, type NfsClientOptions } from './client.js';
import { Nfs4Client, type Nfs4ClientOptions } from './nfs4/client.js';
import { MountError } from './nfs-error.js';
import { parseNfsUrl, type NfsTarget } from './nfs-url.js';
import type { NfsFs } from './types.js';

export type ConnectOptions = NfsClientOptions & Nfs4ClientOptions;

/**
 * Opens the export at an `nfs://` URL with the client its `version` names: 3 (NfsClient), 4.1
 * (Nfs4Client), or `auto`: NFSv4.1 first, NFSv3 when the server does not answer in 4.1. An
 * export that 4.1 reached but refused (no such export, wrong security) is not retried in 3.
 */
export async function connectNfsUrl(url: string | NfsTarget, options: ConnectOptions = {}): Promise<NfsFs> {
  const target = typeof url === 'string' ? parseNfsUrl(url) : url;
  if (target.version === 3) return NfsClient.connect(target, options);
  if (target.version === 4.1) return Nfs4Client.connect(target, options);
  let v4Error: unknown;
  try {
    return await Nfs4Client.connect({ ...target, version: 4.1 }, options);
  } catch (err) {
    if (err instanceof MountError && err.status !== 'NFS4_UNSUPPORTED') throw err;
    v4Error = err;
  }
  try {
    return await NfsClient.connect({ ...target, version: 3 }, options);
  } catch (err) {
    throw new NfsvolError(
      'NFS_CONNECT',
      `${target.host} answered neither NFSv4.1 (${(v4Error as Error).message}) nor NFSv3 (${(err as Error).message})`,
      { cause: err },
    );
  }
}
