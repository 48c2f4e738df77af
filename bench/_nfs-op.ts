/**
 * One operation of nfsvol's NFS client as its own process (start, connect, work, exit), so that it
 * is timed the way nfs-cp and nfs-ls are. bench/nfs-client.ts bundles it with esbuild first, so
 * no TypeScript loader is timed.
 *   node nfs-op.mjs URL upload LOCAL REMOTE | download REMOTE LOCAL | wstream LOCAL REMOTE
 *                   | rstream REMOTE LOCAL | ls REMOTE
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { NfsClient } from '../driver/nfs/index.js';

const [url, op, a, b] = process.argv.slice(2);
if (!url || !op || !a) throw new Error('usage: nfs-op URL OP ARG [ARG]');
await using nfs = await NfsClient.connect(url);
const need = (x: string | undefined): string => {
  if (!x) throw new Error(`${op} needs two paths`);
  return x;
};
switch (op) {
  case 'upload':
    await nfs.upload(a, need(b));
    break;
  case 'download':
    await nfs.download(a, need(b));
    break;
  case 'wstream':
    await pipeline(createReadStream(a, { highWaterMark: 1 << 20 }), nfs.createWriteStream(need(b)));
    break;
  case 'rstream': {
    const fd = openSync(need(b), 'w');
    try {
      for await (const chunk of nfs.createReadStream(a)) writeSync(fd, chunk as Buffer);
    } finally {
      closeSync(fd);
    }
    break;
  }
  case 'ls': {
    // Printed like nfs-ls prints, one entry a line, so both outputs are counted the same way.
    const entries = await nfs.readdir(a);
    process.stdout.write(entries.map((e) => `${e.name}\n`).join(''));
    break;
  }
  default:
    throw new Error(`unknown operation ${op}`);
}
