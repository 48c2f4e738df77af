/**
 * Evaluates @jsonjoy.com/json-pack's RPC, record-marking and NFSv3 decoders on the replies a real
 * nfs-ganesha sent (test/unit/nfs/golden/ganesha-v3.json) and on hostile input, side by side with
 * nfsvol's own codec. Run: npm run bench -- jsonpack-eval
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as nfs3 from '../driver/nfs/nfs3/index.js';
import { RecordDecoder, decodeReply, type Procedure } from '../driver/nfs/rpc/index.js';
import { XdrWriter } from '../driver/nfs/xdr/index.js';

const require = createRequire(import.meta.url);
interface JpReader {
  x: number;
  uint8: Uint8Array;
}
const { Reader } = require('@jsonjoy.com/buffers/lib/Reader') as { Reader: new (b?: Uint8Array) => JpReader };
const { RpcMessageDecoder } = require('@jsonjoy.com/json-pack/lib/rpc/RpcMessageDecoder') as {
  RpcMessageDecoder: new () => {
    decodeMessage(r: JpReader): { stat?: number; results?: JpReader } | undefined;
  };
};
const { Nfsv3Decoder } = require('@jsonjoy.com/json-pack/lib/nfs/v3/Nfsv3Decoder') as {
  Nfsv3Decoder: new () => {
    decodeMessage(r: JpReader, proc: number, isRequest: boolean): { status?: number } | undefined;
  };
};
const { RmRecordDecoder } = require('@jsonjoy.com/json-pack/lib/rm/RmRecordDecoder') as {
  RmRecordDecoder: new () => { push(b: Uint8Array): void; readRecord(): JpReader | undefined };
};

const golden = (
  JSON.parse(readFileSync(new URL('../test/unit/nfs/golden/ganesha-v3.json', import.meta.url), 'utf8')) as {
    prog: number;
    proc: number;
    hex: string;
  }[]
).filter((g) => g.prog === 100003 && g.proc !== 0);
const ours = new Map<number, Procedure<never, unknown>>();
for (const v of Object.values(nfs3)) {
  if (typeof v === 'object' && v !== null && 'proc' in v && 'decode' in v) {
    const p = v as Procedure<never, unknown>;
    ours.set(p.proc, p);
  }
}

function jsonPackDecode(
  bytes: Uint8Array,
  proc: number,
): { status?: number; consumed: boolean } | 'undefined' {
  const msg = new RpcMessageDecoder().decodeMessage(new Reader(bytes));
  if (!msg?.results) return 'undefined';
  const r = msg.results;
  const res = new Nfsv3Decoder().decodeMessage(r, proc, false);
  if (!res) return 'undefined';
  return { status: res.status, consumed: r.x === r.uint8.length };
}

function oursDecode(bytes: Uint8Array, proc: number): { status?: number; consumed: boolean } {
  const reply = decodeReply(bytes);
  if (!reply.ok) throw reply.error;
  const res = ours.get(proc)!.decode(reply.results) as { ok: boolean; status?: number };
  return { status: res.ok ? 0 : res.status, consumed: reply.results.remaining === 0 };
}

console.log(`1. Real replies from nfs-ganesha (${golden.length} NFSv3 replies, every procedure nfsvol uses)`);
let agree = 0;
for (const g of golden) {
  const bytes = Buffer.from(g.hex, 'hex');
  const a = oursDecode(bytes, g.proc);
  let b: ReturnType<typeof jsonPackDecode> | string;
  try {
    b = jsonPackDecode(bytes, g.proc);
  } catch (err) {
    b = `threw ${(err as Error).name}`;
  }
  const same = typeof b === 'object' && b.status === a.status && b.consumed && a.consumed;
  if (same) agree++;
  else
    console.log(`   ${ours.get(g.proc)!.name}: nfsvol ${JSON.stringify(a)}  json-pack ${JSON.stringify(b)}`);
}
console.log(`   both decode the same status and consume every byte: ${agree}/${golden.length}`);

console.log('2. Every truncation of every real reply');
const outcome = { ours: { typedError: 0, other: 0 }, jsonPack: { undefined: 0, value: 0, threw: 0 } };
for (const g of golden) {
  const bytes = Buffer.from(g.hex, 'hex');
  for (let cut = 0; cut < bytes.length; cut++) {
    const part = bytes.subarray(0, cut);
    try {
      oursDecode(part, g.proc);
      outcome.ours.other++;
    } catch (err) {
      if ((err as { code?: string }).code) outcome.ours.typedError++;
      else outcome.ours.other++;
    }
    try {
      const r = jsonPackDecode(part, g.proc);
      if (r === 'undefined') outcome.jsonPack.undefined++;
      else outcome.jsonPack.value++;
    } catch {
      outcome.jsonPack.threw++;
    }
  }
}
console.log(`   nfsvol:    ${outcome.ours.typedError} typed errors, ${outcome.ours.other} other`);
console.log(
  `   json-pack: ${outcome.jsonPack.undefined} 'undefined' (no error, indistinguishable from "need more bytes"), ${outcome.jsonPack.value} decoded as a value, ${outcome.jsonPack.threw} threw`,
);

console.log('3. A record header claiming 2 GiB, followed by 64 MiB of data');
const header = Buffer.from('ffffffff', 'hex');
const mib = Buffer.alloc(1 << 20);
const rm = new RmRecordDecoder();
rm.push(header);
for (let i = 0; i < 64; i++) {
  rm.push(mib);
  rm.readRecord();
}
console.log(
  `   json-pack RmRecordDecoder: no error, still buffering (${rm.readRecord() === undefined ? 'waiting for 2 GiB' : 'returned'})`,
);
try {
  new RecordDecoder(4 << 20).push(header);
  console.log('   nfsvol RecordDecoder: accepted');
} catch (err) {
  console.log(`   nfsvol RecordDecoder: ${(err as { code: string }).code} on the header, nothing buffered`);
}

console.log('4. A READDIRPLUS reply with many entries (entry lists are XDR linked lists)');
for (const n of [1000, 20000, 100000]) {
  const w = new XdrWriter();
  w.u32(7).u32(1).u32(0).u32(0).u32(0).u32(0); // xid, REPLY, accepted, AUTH_NONE verf, SUCCESS
  w.u32(0).bool(false).fixedOpaque(new Uint8Array(8)); // NFS3_OK, no dir attrs, cookieverf
  for (let i = 0; i < n; i++)
    w.bool(true)
      .u64(BigInt(i + 1))
      .string(`f${i}`)
      .u64(BigInt(i + 1))
      .bool(false)
      .bool(false);
  w.bool(false).bool(true);
  const bytes = w.finish();
  let jp: string;
  try {
    const r = jsonPackDecode(bytes, 17);
    jp = r === 'undefined' ? 'undefined' : 'decoded';
  } catch (err) {
    jp = `threw ${(err as Error).name}: ${(err as Error).message.slice(0, 40)}`;
  }
  let ok: string;
  try {
    oursDecode(bytes, 17);
    ok = 'decoded';
  } catch (err) {
    ok = `threw ${(err as { code?: string }).code}`;
  }
  console.log(`   ${n} entries: nfsvol ${ok}; json-pack ${jp}`);
}
