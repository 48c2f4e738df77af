/**
 * Captures golden NFSv4.1 COMPOUND replies from a real server for the codec tests: runs every
 * operation nfsvol's v4.1 client uses (and a few failures) and keeps the first reply of each
 * kind, keyed by the opcodes in the reply and its status.
 *
 *   tsx test/support/capture-golden-v4.ts 'nfs://127.0.0.1/export?version=4.1&nfsport=N' test/unit/nfs/nfs4/golden/ganesha-v41.json
 */
import { writeFileSync } from 'node:fs';
import { Nfs4Client } from '../../driver/nfs/nfs4/client.js';
import { COMPOUND } from '../../driver/nfs/nfs4/compound.js';
import { decodeRpcReply } from '../../driver/nfs/rpc/index.js';

const [url, out] = process.argv.slice(2);
if (!url || !out) {
  console.error('usage: capture-golden-v4.ts NFS_URL OUT.json');
  process.exit(2);
}
const seen = new Map<string, { prog: number; proc: number; ops: string; hex: string }>();
const onReply = (record: Uint8Array, call: { prog: number; proc: number }): void => {
  let key = `${call.proc}`;
  let ops = '';
  if (call.proc === 1) {
    const reply = decodeRpcReply(Uint8Array.from(record));
    if (!reply.ok) return;
    const res = COMPOUND.decode(reply.results);
    ops = res.results.map((r) => `${r.op}${r.status === 0 ? '' : `=${r.status}`}`).join(',');
    key = `1/${ops}`;
  }
  if (!seen.has(key))
    seen.set(key, { prog: call.prog, proc: call.proc, ops, hex: Buffer.from(record).toString('hex') });
};

const nfs = await Nfs4Client.connect(url, { onReply });
const dir = `golden-${process.pid}`;
await nfs.mkdir(dir, { mode: 0o750, uid: 1000, gid: 1000 });
await nfs.mkdir(dir).catch(() => undefined); // NFS4ERR_EXIST
await nfs.stat(dir);
await nfs.stat(`${dir}/missing`).catch(() => undefined); // LOOKUP NFS4ERR_NOENT
await nfs.writeFile(`${dir}/small.txt`, 'golden bytes\n', { uid: 1000, gid: 1000 });
await nfs.writeFile(`${dir}/multi.bin`, Buffer.alloc(2 * nfs.ioSize('write') + 5, 7)); // UNSTABLE + COMMIT
await nfs.createExclusive(`${dir}/lock`, 'x');
await nfs.createExclusive(`${dir}/lock`, 'x').catch(() => undefined);
await nfs.chmod(`${dir}/small.txt`, 0o600);
await nfs.readFile(`${dir}/small.txt`);
await nfs.symlink('small.txt', `${dir}/link`);
await nfs.readlink(`${dir}/link`);
await nfs.rename(`${dir}/small.txt`, `${dir}/renamed.txt`);
await nfs.readdir(dir);
await nfs.statfs();
await nfs.usage(dir);
await nfs.rm(dir).catch(() => undefined); // REMOVE NFS4ERR_NOTEMPTY
await nfs.rm(dir, { recursive: true });
await nfs.close();
writeFileSync(out, JSON.stringify([...seen.values()], null, 1) + '\n');
console.log(`wrote ${seen.size} replies to ${out}`);
