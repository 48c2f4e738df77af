/**
 * The NfsFs contract against nfsvol's NFSv3 client and its NFSv4.1 client, both on one
 * nfs-ganesha from the lab that serves the two versions of the same export. Each case gets a
 * fresh client (no handle cache carried over) and a directory of its own, removed afterwards.
 */
import { afterAll, beforeAll } from 'vitest';
import { startNfsServer, type NfsServer } from '../../deploy/lab/index.js';
import { Nfs4Client, NfsClient } from '../../driver/nfs/index.js';
import type { NfsFs } from '../../driver/nfs/types.js';
import { describeNfsFsContract, type NfsFsSubject } from '../contract/nfs-fs.contract.js';

let server: NfsServer;
/** Makes and removes each case's directory, so a client under test never sets up its own case. */
let admin: NfsClient;
let cases = 0;

beforeAll(async () => {
  server = await startNfsServer();
  admin = await NfsClient.connect(server.url(3));
});

afterAll(async () => {
  await admin?.close();
  await server?.stop();
});

async function subject(connect: () => Promise<NfsFs>): Promise<NfsFsSubject> {
  const dir = `case-${++cases}`;
  await admin.mkdir(dir);
  const fs = await connect();
  return {
    fs,
    dir,
    teardown: async () => {
      await fs.close();
      await admin.rm(dir, { recursive: true });
    },
  };
}

describeNfsFsContract('NfsClient (NFSv3) on nfs-ganesha', () =>
  subject(() => NfsClient.connect(server.url(3))),
);

describeNfsFsContract('Nfs4Client (NFSv4.1) on nfs-ganesha', () =>
  subject(() => Nfs4Client.connect(server.url(4.1))),
);
