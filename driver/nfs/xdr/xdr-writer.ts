import { XdrError } from './xdr-error.js';

const TWO_32 = 4294967296;
const encoder = new TextEncoder();
const PAD = new Uint8Array(4);

/**
 * XDR (RFC 4506) writer. Small items go into a growing scratch buffer; large payloads passed to
 * `opaqueRef` are kept by reference as separate chunks, so a WRITE of 1 MiB is never copied
 * before it reaches the socket.
 */
export class XdrWriter {
  private chunks: Uint8Array[] = [];
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  private flushedLength = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new XdrError('XDR_BAD_VALUE', `uint32 out of range: ${v}`);
    }
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
    return this;
  }

  i32(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new XdrError('XDR_BAD_VALUE', `int32 out of range: ${v}`);
    }
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
    return this;
  }

  u64(v: bigint | number): this {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < 0) throw new XdrError('XDR_BAD_VALUE', `uint64 out of range: ${v}`);
      this.ensure(8);
      this.view.setUint32(this.pos, Math.floor(v / TWO_32));
      this.view.setUint32(this.pos + 4, v % TWO_32);
    } else {
      if (v < 0n || v > 0xffffffffffffffffn) throw new XdrError('XDR_BAD_VALUE', `uint64 out of range: ${v}`);
      this.ensure(8);
      this.view.setBigUint64(this.pos, v);
    }
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }

  fixedOpaque(data: Uint8Array, n = data.length): this {
    if (data.length !== n) throw new XdrError('XDR_BAD_VALUE', `opaque[${n}] given ${data.length} bytes`);
    const padded = n + ((4 - (n % 4)) % 4);
    this.ensure(padded);
    this.buf.set(data, this.pos);
    this.buf.fill(0, this.pos + n, this.pos + padded);
    this.pos += padded;
    return this;
  }

  opaque(data: Uint8Array, max = 0xffffffff): this {
    if (data.length > max) {
      throw new XdrError('XDR_TOO_LONG', `opaque of ${data.length} bytes exceeds the limit of ${max}`);
    }
    this.u32(data.length);
    return this.fixedOpaque(data);
  }

  /** Variable-length opaque whose bytes are referenced, not copied. */
  opaqueRef(data: Uint8Array): this {
    this.u32(data.length);
    this.flush();
    if (data.length > 0) this.chunks.push(data);
    this.flushedLength += data.length;
    const pad = (4 - (data.length & 3)) & 3;
    if (pad > 0) {
      this.chunks.push(PAD.subarray(0, pad));
      this.flushedLength += pad;
    }
    return this;
  }

  string(s: string, max = 0xffffffff): this {
    return this.opaque(encoder.encode(s), max);
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.flushedLength += this.pos;
    // The flushed bytes are now owned by `chunks`: continue in a fresh buffer.
    this.buf = new Uint8Array(Math.max(64, this.buf.length - this.pos));
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  get length(): number {
    return this.flushedLength + this.pos;
  }

  /** The encoded bytes as a list of chunks (no copy of referenced payloads). */
  finishChunks(): Uint8Array[] {
    this.flush();
    const out = this.chunks;
    this.chunks = [];
    this.flushedLength = 0;
    return out;
  }

  /** The encoded bytes as one buffer. */
  finish(): Uint8Array {
    const chunks = this.finishChunks();
    if (chunks.length === 1) return chunks[0]!;
    return Buffer.concat(chunks);
  }
}
