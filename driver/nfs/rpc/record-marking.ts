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
 *
 * Memory is never sized by a length field alone. Large pieces of a record are kept as they
 * arrive (copied when the caller reuses its chunk buffer), then joined. Small pieces (a server
 * may cut a record into fragments of one byte each) are copied into one buffer that doubles as
 * it fills, so what is held stays within about twice the payload whatever the fragmenting, not
 * one object per fragment. The one exception is a large single-fragment
 * record whose first word (the RPC xid) `bound` recognises: it is assembled straight into one
 * buffer of its length when that length is within the bound, which the caller derives from its
 * own request (a READ of 1 MiB cannot need a much larger reply). That saves a copy and many
 * allocations on bulk READs. When `provided` gives a buffer for that xid that is large enough,
 * the record is assembled in it instead of in a new one: a caller that reads a file in a loop
 * lends the same few buffers again and again, and fresh memory (page faults, GC) is not paid
 * for every reply.
 */
export class RecordDecoder {
  private readonly header = new Uint8Array(4);
  private headerHave = 0;
  private fragmentLeft = 0;
  private inFragment = false;
  private last = false;
  private parts: Uint8Array[] = [];
  /** Small pieces received after the last of `parts`, copied together (see the class comment). */
  private tail: Buffer | undefined;
  private tailHave = 0;
  private recordLength = 0;
  /** The record being assembled in place (see the class comment), and how much of it is filled. */
  private whole: Buffer | undefined;
  private wholeHave = 0;

  constructor(
    readonly maxRecordSize: number,
    /** Largest reply expected for the call with this xid, or undefined when unknown. */
    private readonly bound?: (xid: number) => number | undefined,
    /** A buffer the call with this xid lends for its reply (see the class comment). */
    private readonly provided?: (xid: number) => Uint8Array | undefined,
  ) {}

  /** True while a record is being assembled in `buffer`'s memory. */
  writesInto(buffer: Uint8Array): boolean {
    return this.whole !== undefined && this.whole.buffer === buffer.buffer;
  }

  /** True while part of a record has been received. */
  get partial(): boolean {
    return this.headerHave > 0 || this.inFragment || this.parts.length > 0 || this.tailHave > 0;
  }

  /** Buffers and bytes held for the record being assembled (what its partial pieces cost). */
  get held(): { readonly buffers: number; readonly bytes: number } {
    let bytes = (this.tail?.length ?? 0) + (this.whole?.length ?? 0);
    for (const p of this.parts) bytes += p.byteLength;
    return { buffers: this.parts.length + (this.tail ? 1 : 0) + (this.whole ? 1 : 0), bytes };
  }

  /**
   * Takes a chunk. With `reused`, the caller will overwrite the chunk's memory after this call,
   * so every byte kept or returned is copied out of it first.
   */
  push(chunk: Uint8Array, reused = false): Uint8Array[] {
    const records: Uint8Array[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (!this.inFragment) {
        let h: number;
        if (this.headerHave === 0 && chunk.length - off >= 4) {
          // The usual case, read in place: nothing is allocated per fragment.
          h = u32be(chunk, off);
          off += 4;
        } else {
          const take = Math.min(4 - this.headerHave, chunk.length - off);
          this.header.set(chunk.subarray(off, off + take), this.headerHave);
          this.headerHave += take;
          off += take;
          if (this.headerHave < 4) break;
          this.headerHave = 0;
          h = u32be(this.header, 0);
        }
        this.last = (h & LAST_FRAGMENT) !== 0;
        this.fragmentLeft = h & MAX_FRAGMENT;
        if (this.recordLength + this.fragmentLeft > this.maxRecordSize) {
          throw new RpcError(
            'RPC_RECORD_TOO_LARGE',
            `server sent a record of at least ${this.recordLength + this.fragmentLeft} bytes, over the limit of ${this.maxRecordSize}`,
          );
        }
        this.inFragment = true;
        this.whole = this.inPlace(chunk, off);
        this.wholeHave = 0;
      }
      const take = Math.min(this.fragmentLeft, chunk.length - off);
      if (take > 0) {
        const bytes = chunk.subarray(off, off + take);
        if (this.whole) {
          this.whole.set(bytes, this.wholeHave);
          this.wholeHave += take;
        } else if (this.last && take === this.fragmentLeft && this.recordLength === 0) {
          // The whole record is in this chunk (the usual small reply): it is returned as it is.
          this.parts.push(reused ? Buffer.from(bytes) : bytes);
        } else {
          this.keep(bytes, reused);
        }
        this.recordLength += take;
        this.fragmentLeft -= take;
        off += take;
      }
      if (this.fragmentLeft === 0) {
        const record = this.endFragment();
        if (record) records.push(record);
      }
    }
    return records;
  }

  /** The current fragment is complete: returns the record it completes, if it does. */
  private endFragment(): Uint8Array | undefined {
    this.inFragment = false;
    let record: Uint8Array | undefined;
    if (this.whole) {
      record = this.whole;
      this.whole = undefined;
    } else if (this.last) {
      this.sealTail();
      record = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.recordLength);
      this.parts = [];
    } else {
      return undefined;
    }
    this.recordLength = 0;
    return record;
  }

  /** Keeps a piece of a record that is not assembled in place. */
  private keep(bytes: Uint8Array, reused: boolean): void {
    if (bytes.length >= COALESCE_BELOW) {
      this.sealTail();
      this.parts.push(reused ? Buffer.from(bytes) : bytes);
      return;
    }
    const need = this.tailHave + bytes.length;
    if (!this.tail || need > this.tail.length) {
      // Doubling: each byte is copied a bounded number of times on average, and the buffer is
      // never more than twice what it holds. The record limit caps it (the header was checked).
      const size = Math.max(
        need,
        Math.min(Math.max(TAIL_MIN, 2 * (this.tail?.length ?? 0)), this.maxRecordSize),
      );
      const grown = Buffer.allocUnsafe(size);
      this.tail?.copy(grown, 0, 0, this.tailHave);
      this.tail = grown;
    }
    this.tail.set(bytes, this.tailHave);
    this.tailHave = need;
  }

  /** Ends the run of small pieces: what it holds becomes one part. */
  private sealTail(): void {
    if (this.tail && this.tailHave > 0) this.parts.push(this.tail.subarray(0, this.tailHave));
    this.tail = undefined;
    this.tailHave = 0;
  }

  /**
   * Where the socket may read next without a copy: the unfilled rest of the fragment being
   * assembled in place, when at least `min` bytes of it are left. The caller reads at most that
   * many bytes into it, then calls `filledInPlace` with the count.
   */
  inPlaceTarget(min: number): Uint8Array | undefined {
    if (!this.whole || !this.inFragment || this.fragmentLeft < min) return undefined;
    return this.whole.subarray(this.wholeHave, this.wholeHave + this.fragmentLeft);
  }

  /** True if `buf` is what `inPlaceTarget` handed out for the current position. */
  isInPlaceTarget(buf: Uint8Array): boolean {
    return (
      this.whole !== undefined &&
      this.inFragment &&
      buf.buffer === this.whole.buffer &&
      buf.byteOffset === this.whole.byteOffset + this.wholeHave &&
      buf.byteLength <= this.fragmentLeft
    );
  }

  /**
   * `n` bytes were read straight into `target`, which `inPlaceTarget` handed out; returns the
   * record if that completed it. Any other buffer, or more bytes than the fragment has left, is
   * refused: the stream can no longer be trusted.
   */
  filledInPlace(target: Uint8Array, n: number): Uint8Array[] {
    if (!this.isInPlaceTarget(target) || n > this.fragmentLeft) {
      throw new RpcError('RPC_PROTOCOL', 'a socket read landed outside the record being assembled');
    }
    this.wholeHave += n;
    this.recordLength += n;
    this.fragmentLeft -= n;
    const record = this.fragmentLeft === 0 ? this.endFragment() : undefined;
    return record ? [record] : [];
  }

  /** A buffer for the whole record when it may be assembled in place (see the class comment). */
  private inPlace(chunk: Uint8Array, off: number): Buffer | undefined {
    const len = this.fragmentLeft;
    if (!this.bound || !this.last || this.recordLength > 0 || len < IN_PLACE_MIN) return undefined;
    if (off + 4 > chunk.length) return undefined; // the xid is not here yet: keep parts
    const xid = new DataView(chunk.buffer, chunk.byteOffset + off, 4).getUint32(0);
    const bound = this.bound(xid);
    if (bound === undefined || len > bound) return undefined;
    // Filled completely before it is returned.
    const lent = this.provided?.(xid);
    if (lent && lent.length >= len) return Buffer.from(lent.buffer, lent.byteOffset, len);
    return Buffer.allocUnsafe(len);
  }
}

function u32be(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Smaller records are cheap to keep as parts. */
const IN_PLACE_MIN = 64 * 1024;
/** Pieces of a record at least this long are kept one by one; shorter ones are copied together. */
const COALESCE_BELOW = 64 * 1024;
/** First size of the buffer that gathers small pieces. */
const TAIL_MIN = 4096;
