import { RpcError } from './rpc-error.js';

/*
 * RPC record marking over TCP (RFC 5531 section 11): each record is one or more fragments, each
 * preceded by a 4-byte big-endian header whose top bit marks the last fragment and whose low 31
 * bits give the fragment length.
 */

const LAST_FRAGMENT = 0x80000000;
const MAX_FRAGMENT = 0x7fffffff;

/** Frames one record (as chunks, not copied) with a single last-fragment header. */
export function encodeRecord(chunks: readonly Uint8Array[]): Uint8Array[] {
  let len = 0;
  for (const c of chunks) len += c.length;
  if (len > MAX_FRAGMENT) throw new RpcError('RPC_RECORD_TOO_LARGE', `record of ${len} bytes is too large`);
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, (LAST_FRAGMENT | len) >>> 0);
  return [header, ...chunks];
}

/**
 * Incremental record decoder: feed it socket chunks of any size; it returns the records they
 * complete and keeps partial headers and fragments between calls. A fragment header that would
 * take a record past `maxRecordSize` throws before anything is buffered for it.
 */
export class RecordDecoder {
  private readonly header = new Uint8Array(4);
  private headerHave = 0;
  private fragmentLeft = 0;
  private inFragment = false;
  private last = false;
  private parts: Uint8Array[] = [];
  private recordLength = 0;

  constructor(readonly maxRecordSize: number) {}

  /** True while part of a record has been received. */
  get partial(): boolean {
    return this.headerHave > 0 || this.inFragment || this.parts.length > 0;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const records: Uint8Array[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (!this.inFragment) {
        const take = Math.min(4 - this.headerHave, chunk.length - off);
        this.header.set(chunk.subarray(off, off + take), this.headerHave);
        this.headerHave += take;
        off += take;
        if (this.headerHave < 4) break;
        this.headerHave = 0;
        const h = new DataView(this.header.buffer).getUint32(0);
        this.last = (h & LAST_FRAGMENT) !== 0;
        this.fragmentLeft = h & MAX_FRAGMENT;
        if (this.recordLength + this.fragmentLeft > this.maxRecordSize) {
          throw new RpcError(
            'RPC_RECORD_TOO_LARGE',
            `server sent a record of at least ${this.recordLength + this.fragmentLeft} bytes, over the limit of ${this.maxRecordSize}`,
          );
        }
        this.inFragment = true;
      }
      const take = Math.min(this.fragmentLeft, chunk.length - off);
      if (take > 0) {
        this.parts.push(chunk.subarray(off, off + take));
        this.recordLength += take;
        this.fragmentLeft -= take;
        off += take;
      }
      if (this.fragmentLeft === 0) {
        this.inFragment = false;
        if (this.last) {
          const parts = this.parts;
          records.push(parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.recordLength));
          this.parts = [];
          this.recordLength = 0;
        }
      }
    }
    return records;
  }
}
