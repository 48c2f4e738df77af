/*
 * Shared NFSv4.1 types (RFC 7863):
 *   typedef opaque nfs_fh4<NFS4_FHSIZE>;
 *   typedef opaque verifier4[NFS4_VERIFIER_SIZE];          (8 bytes)
 *   typedef utf8str_cs component4;                          (a name within a directory)
 *   typedef uint32_t bitmap4<>;
 *   struct stateid4 { uint32_t seqid; opaque other[12]; };
 *   struct change_info4 { bool atomic; changeid4 before; changeid4 after; };
 *   typedef opaque sessionid4[NFS4_SESSIONID_SIZE];
 */
import { XdrError } from '../xdr/xdr-error.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { NFS4_FHSIZE, NFS4_SESSIONID_SIZE } from './program.js';

export type Fh4 = Uint8Array;

export interface Stateid4 {
  readonly seqid: number;
  /** 12 bytes. */
  readonly other: Uint8Array;
}

/** The all-zero "anonymous" stateid (RFC 8881 section 8.2.3): no open state needed. */
export const ANONYMOUS_STATEID: Stateid4 = { seqid: 0, other: new Uint8Array(12) };

/**
 * The "current stateid" (RFC 8881 section 16.2.3.1.2): the stateid the previous operation of the
 * same COMPOUND produced, so OPEN, WRITE and CLOSE fit in one request.
 */
export const CURRENT_STATEID: Stateid4 = { seqid: 1, other: new Uint8Array(12) };

export interface ChangeInfo4 {
  readonly atomic: boolean;
  readonly before: bigint;
  readonly after: bigint;
}

/** Longest name component decoded from a reply (NAME_MAX is 255 bytes on common servers). */
export const MAX_COMPONENT = 1024;
/** Most words in a bitmap4 this client accepts: attribute numbers stay well below 32 x 8. */
export const MAX_BITMAP_WORDS = 8;

export function writeFh(w: XdrWriter, fh: Fh4): void {
  w.opaque(fh, NFS4_FHSIZE);
}

export function readFh(r: XdrReader): Fh4 {
  return r.opaque(NFS4_FHSIZE, 'nfs_fh4');
}

export function writeVerifier(w: XdrWriter, v: Uint8Array): void {
  w.fixedOpaque(v, 8);
}

export function readVerifier(r: XdrReader): Uint8Array {
  return r.fixedOpaque(8);
}

export function writeSessionId(w: XdrWriter, id: Uint8Array): void {
  w.fixedOpaque(id, NFS4_SESSIONID_SIZE);
}

export function readSessionId(r: XdrReader): Uint8Array {
  return r.fixedOpaque(NFS4_SESSIONID_SIZE);
}

export function writeComponent(w: XdrWriter, name: string): void {
  w.string(name, MAX_COMPONENT);
}

export function readComponent(r: XdrReader): string {
  return r.string(MAX_COMPONENT, 'component4');
}

export function writeStateid(w: XdrWriter, s: Stateid4): void {
  w.u32(s.seqid);
  w.fixedOpaque(s.other, 12);
}

export function readStateid(r: XdrReader): Stateid4 {
  return { seqid: r.u32(), other: r.fixedOpaque(12) };
}

export function readChangeInfo(r: XdrReader): ChangeInfo4 {
  return { atomic: r.bool(), before: r.u64(), after: r.u64() };
}

/** A bitmap4 as the sorted attribute (or operation) numbers whose bits are set. */
export function writeBitmap(w: XdrWriter, bits: readonly number[]): void {
  const words: number[] = [];
  for (const b of bits) {
    if (!Number.isInteger(b) || b < 0 || b >= MAX_BITMAP_WORDS * 32) {
      throw new XdrError('XDR_BAD_VALUE', `bitmap4 bit out of range: ${b}`);
    }
    const i = b >>> 5;
    while (words.length <= i) words.push(0);
    words[i] = (words[i]! | (1 << (b & 31))) >>> 0;
  }
  w.u32(words.length);
  for (const word of words) w.u32(word);
}

export function readBitmap(r: XdrReader): number[] {
  const words = r.array(MAX_BITMAP_WORDS, 4, (x) => x.u32(), 'bitmap4');
  const bits: number[] = [];
  words.forEach((word, i) => {
    for (let b = 0; b < 32; b++) if ((word >>> b) & 1) bits.push(i * 32 + b);
  });
  return bits;
}
