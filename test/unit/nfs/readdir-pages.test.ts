import { describe, expect, it } from 'vitest';
import { NfsClient } from '../../../driver/nfs/client.js';
import { startFakeNfs } from './fake-nfs-server.js';

const verf = (n: number): Uint8Array => new Uint8Array(8).fill(n);

describe('NfsClient listing a directory of several READDIRPLUS pages', () => {
  it('follows the resume cookie page after page until EOF: every entry, in order, once', async () => {
    const cookies: bigint[] = [];
    await using srv = await startFakeNfs({
      readdirplus: ({ cookie }) => {
        cookies.push(cookie);
        const start = Number(cookie);
        const entries = Array.from({ length: 100 }, (_, i) => ({
          fileid: BigInt(start + i + 1000),
          name: `e${String(start + i).padStart(3, '0')}`,
          cookie: BigInt(start + i + 1),
        }));
        return { cookieverf: verf(7), entries, eof: start >= 200 };
      },
    });
    await using nfs = await NfsClient.connect(srv.url);
    const names: string[] = [];
    for await (const e of nfs.readdirIter('d')) names.push(e.name);
    expect(cookies).toEqual([0n, 100n, 200n]);
    expect(names).toEqual(Array.from({ length: 300 }, (_, i) => `e${String(i).padStart(3, '0')}`));
  });
});
