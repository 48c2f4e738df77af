import { XdrError } from './xdr-error.js';

const TWO_32 = 4294967296;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Bounds-checked XDR (RFC 4506) reader over one buffer. Every read checks the remaining length
 * first and throws `XdrError` rather than reading past the end; variable-length items are
 * returned as views into the buffer, so a length field can never make it allocate.
 */
export class XdrReader {
  private readonly view: DataView;
  private offset: number;
  private readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.offset = start;
    this.end = end;
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.offset) {
      throw new XdrError(
        'XDR_TRUNCATED',
        `truncated XDR: ${what} needs ${n} bytes at offset ${this.offset}, ${this.end - this.offset} left`,
      );
    }
  }

  u32(): number {
    this.need(4, 'uint32');
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  i32(): number {
    this.need(4, 'int32');
    const v = this.view.getInt32(this.offset);
    this.offset += 4;
    return v;
  }

  /** uint64 as an exact bigint (cookies, file ids). */
  u64(): bigint {
    this.need(8, 'uint64');
    const v = this.view.getBigUint64(this.offset);
    this.offset += 8;
    return v;
  }

  /** uint64 as a number: exact up to 2^53, approximate above (sizes, byte counts). */
  u64n(): number {
    this.need(8, 'uint64');
    const hi = this.view.getUint32(this.offset);
    const lo = this.view.getUint32(this.offset + 4);
    this.offset += 8;
    return hi * TWO_32 + lo;
  }

  bool(): boolean {
    const v = this.u32();
    if (v > 1) throw new XdrError('XDR_BAD_VALUE', `bad XDR boolean ${v} at offset ${this.offset - 4}`);
    return v === 1;
  }

  /** Fixed-length opaque[n]: a view, padded to 4 bytes. */
  fixedOpaque(n: number): Uint8Array {
    const padded = n + ((4 - (n % 4)) % 4);
    this.need(padded, `opaque[${n}]`);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += padded;
    return v;
  }

  /** Variable-length opaque<max>: a view into the buffer. */
  opaque(max: number, what = 'opaque'): Uint8Array {
    const n = this.u32();
    if (n > max) {
      throw new XdrError('XDR_TOO_LONG', `${what} of ${n} bytes exceeds the limit of ${max}`);
    }
    return this.fixedOpaque(n);
  }

  string(max: number, what = 'string'): string {
    return utf8.decode(this.opaque(max, what));
  }

  /**
   * An XDR linked list (`*next` optional pointers, as in entry3 lists), read iteratively so a
   * long list cannot exhaust the stack; `max` bounds the element count.
   */
  list<T>(max: number, item: (r: XdrReader) => T, what = 'list'): T[] {
    const out: T[] = [];
    while (this.bool()) {
      if (out.length >= max) throw new XdrError('XDR_TOO_LONG', `${what} has more than ${max} entries`);
      out.push(item(this));
    }
    return out;
  }

  /** Counted array<max>. Checks the count against the bytes left before reading any element. */
  array<T>(max: number, minItemSize: number, item: (r: XdrReader) => T, what = 'array'): T[] {
    const n = this.u32();
    if (n > max) throw new XdrError('XDR_TOO_LONG', `${what} of ${n} elements exceeds the limit of ${max}`);
    this.need(n * minItemSize, `${what} of ${n} elements`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item(this));
    return out;
  }

  optional<T>(item: (r: XdrReader) => T): T | undefined {
    return this.bool() ? item(this) : undefined;
  }

  /** Throws unless every byte was consumed. */
  done(what = 'message'): void {
    if (this.offset !== this.end) {
      throw new XdrError('XDR_BAD_VALUE', `${what} has ${this.end - this.offset} unexpected trailing bytes`);
    }
  }
}
