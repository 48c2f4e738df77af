// The lab's NFS server as the NFS client team uses it: from 127.0.0.1, through rpcbind, MOUNT
// and NFS on the published ports, restarted mid-test with the same ports and content.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RPC_PROGRAM,
  rpcbindGetPort,
  rpcNull,
  startNfsServer,
  type NfsServer,
} from '../../deploy/lab/index.js';

const run = promisify(execFile);
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('lab NFS server (nfs-ganesha in a container)', () => {
  let server: NfsServer;
  beforeAll(async () => {
    server = await startNfsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers rpcbind GETPORT with ports valid from 127.0.0.1', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.exportPath).toBe('/export');
    expect(await rpcbindGetPort('127.0.0.1', server.rpcbindPort, RPC_PROGRAM.nfs, 3)).toBe(server.nfsPort);
    expect(await rpcbindGetPort('127.0.0.1', server.rpcbindPort, RPC_PROGRAM.mount, 3)).toBe(
      server.mountPort,
    );
    await rpcNull('127.0.0.1', server.nfsPort, RPC_PROGRAM.nfs, 4);
    expect(server.url(3)).toBe(
      `nfs://127.0.0.1/export?version=3&nfsport=${server.nfsPort}&mountport=${server.mountPort}&rpcbindport=${server.rpcbindPort}`,
    );
    expect(server.url(4.1)).toBe(`nfs://127.0.0.1/export?version=4.1&nfsport=${server.nfsPort}`);
  });

  it('stores what an NFSv3 client (libnfs nfs-cp) writes, readable on the host after a restart', async () => {
    const local = await mkdtemp(join(tmpdir(), 'lab-nfs-'));
    const data = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(join(local, 'in'), data);
    const fileUrl = server.url(3).replace('/export?', '/export/blob?');
    await run('nfs-cp', [join(local, 'in'), fileUrl]);
    expect(sha256(await readFile(join(server.exportDir, 'blob')))).toBe(sha256(data));

    const before = { nfs: server.nfsPort, mount: server.mountPort, rpcbind: server.rpcbindPort };
    await server.restart();
    expect({ nfs: server.nfsPort, mount: server.mountPort, rpcbind: server.rpcbindPort }).toEqual(before);

    await run('nfs-cp', [fileUrl, join(local, 'out')]);
    expect(sha256(await readFile(join(local, 'out')))).toBe(sha256(data));
  });
});
