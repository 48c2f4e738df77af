/**
 * Captures golden reply bytes from a real NFSv3 server for the codec tests: runs every
 * procedure nfsvol uses (and a few failures) and writes the first reply of each kind.
 *
 *   tsx test/support/capture-golden.ts nfs://127.0.0.1/export?version=3 test/unit/nfs/golden/ganesha-v3.json
 */
import { writeFileSync } from 'node:fs';
import { NfsClient } from '../../driver/nfs/index.js';
import { ACCESS, NFS3_PROGRAM, NULL, PATHCONF, READ } from '../../driver/nfs/nfs3/index.js';
import { MOUNT3_PROGRAM } from '../../driver/nfs/mount3/index.js';
import { GETPORT, IPPROTO_TCP, PORTMAP_PROGRAM } from '../../driver/nfs/portmap/index.js';
import { RpcConnection } from '../../driver/nfs/rpc/index.js';
import { parseNfsUrl } from '../../driver/nfs/nfs-url.js';

const [url, out] = process.argv.slice(2);
if (!url || !out) {
  console.error('usage: capture-golden.ts NFS_URL OUT.json');
  process.exit(2);
}
const seen = new Map<string, { prog: number; proc: number; hex: string }>();
const onReply = (record: Uint8Array, call: { prog: number; proc: number }): void => {
  // Key on program, procedure and status word (after xid, mtype, reply_stat, verf(8), accept_stat).
  const status = record.length >= 28 ? Buffer.from(record).readUInt32BE(24) : -1;
  const key = `${call.prog}/${call.proc}/${status}`;
  if (!seen.has(key))
    seen.set(key, { prog: call.prog, proc: call.proc, hex: Buffer.from(record).toString('hex') });
};

const target = parseNfsUrl(url);
{
  await using pm = new RpcConnection({ host: target.host, port: target.rpcbindPort, onReply });
  await pm.call(PORTMAP_PROGRAM, GETPORT, { prog: MOUNT3_PROGRAM.prog, vers: 3, prot: IPPROTO_TCP });
  await pm.call(PORTMAP_PROGRAM, GETPORT, { prog: 100099, vers: 1, prot: IPPROTO_TCP });
}
const nfs = await NfsClient.connect(url, { onReply });
const dir = `golden-${process.pid}`;
await nfs.nfs.call(NFS3_PROGRAM, NULL, undefined);
await nfs.exports();
await nfs.mkdir(dir, { mode: 0o750, uid: 1000, gid: 1000 });
await nfs.mkdir(dir).catch(() => undefined); // NFS3ERR_EXIST
await nfs.stat(dir);
await nfs.stat(`${dir}/missing`).catch(() => undefined); // LOOKUP NFS3ERR_NOENT
await nfs.writeFile(`${dir}/small.txt`, 'golden bytes\n', { uid: 1000, gid: 1000 });
await nfs.writeFile(`${dir}/multi.bin`, Buffer.alloc(3 * nfs.ioSize('write') + 5, 7)); // UNSTABLE + COMMIT
await nfs.createExclusive(`${dir}/lock`, 'x');
await nfs.createExclusive(`${dir}/lock`, 'x').catch(() => undefined);
await nfs.chmod(`${dir}/small.txt`, 0o600);
const fh = await nfs.resolve(`${dir}/small.txt`);
await nfs.nfs.call(NFS3_PROGRAM, ACCESS, { object: fh, access: 0x3f });
await nfs.nfs.call(NFS3_PROGRAM, READ, { file: fh, offset: 0, count: 4096 });
await nfs.nfs.call(NFS3_PROGRAM, PATHCONF, { object: fh });
await nfs.symlink('small.txt', `${dir}/link`);
await nfs.readlink(`${dir}/link`);
await nfs.rename(`${dir}/small.txt`, `${dir}/renamed.txt`);
await nfs.readdir(dir);
await nfs.statfs();
await nfs.rm(dir).catch(() => undefined); // RMDIR NFS3ERR_NOTEMPTY
await nfs.rm(dir, { recursive: true });
await nfs.close();
writeFileSync(out, JSON.stringify([...seen.values()], null, 1) + '\n');
console.log(`wrote ${seen.size} replies to ${out}`);
