/**
 * CRC-32C (Castagnoli), the reflected polynomial 0x82F63B78 used by iSCSI
 * (RFC 3720 §12.1, B.4), SCTP (RFC 9260 Appendix A) and cloud object stores.
 *
 * Slice-by-16: sixteen 256-entry tables, one step per 16 input bytes, read as
 * four aligned little-endian 32-bit words where the host allows it.
 *
 * A faster implementation (the CPU's crc32 instruction, plugins/hw/crc32c.ts)
 * can be installed with `useFastCrc32c`; it then takes every range of at
 * least `FAST_MIN_BYTES` (below that the call costs more than the table).
 */

const POLY = 0x82f63b78;

/** T[k * 256 + b]: the CRC register after byte `b` followed by `k` zero bytes. */
const T = makeTables();

import { WordView } from "./words.ts";

const WORDS = new WordView();
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function makeTables(): Uint32Array {
  const t = new Uint32Array(16 * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[b] = c;
  }
  for (let b = 0; b < 256; b++) {
    let c = t[b];
    for (let k = 1; k < 16; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + b] = c;
    }
  }
  return t;
}

/** `crc32c`'s signature; a fast implementation gets ranges already checked. */
export type Crc32cFn = (buf: Uint8Array, start: number, end: number, crc: number) => number;

export const FAST_MIN_BYTES = 64;
let fast: Crc32cFn | null = null;

/**
 * Installs (or, with null, removes) a faster CRC-32C for `crc32c` to use. The
 * caller has checked it against `crc32cTable` (plugins/hw/crc32c.ts does).
 */
export function useFastCrc32c(fn: Crc32cFn | null): void {
  fast = fn;
}

/**
 * The CRC-32C of `buf[start, end)`, unsigned. Pass a previous result as `crc`
 * to continue it: `crc32c(b, 5, 9, crc32c(b, 0, 5)) === crc32c(b, 0, 9)`.
 */
export function crc32c(buf: Uint8Array, start = 0, end: number = buf.length, crc = 0): number {
  if (start < 0 || end > buf.length || start > end) {
    throw new RangeError(`crc32c: bad range ${start}..${end} of ${buf.length} bytes`);
  }
  if (fast !== null && end - start >= FAST_MIN_BYTES) return fast(buf, start, end, crc);
  return crc32cTable(buf, start, end, crc);
}

/** The table-driven CRC-32C (the reference for any faster one); the range must be valid. */
export function crc32cTable(buf: Uint8Array, start: number, end: number, crc: number): number {
  const t = T;
  let c = ~crc;
  let i = start;
  if (end - i >= 64) {
    while (((buf.byteOffset + i) & 3) !== 0) c = t[(c ^ buf[i++]) & 0xff] ^ (c >>> 8);
    const n = (end - i) >>> 4;
    if (LITTLE_ENDIAN) {
      const w = WORDS.of(buf);
      const j0 = (buf.byteOffset + i) >>> 2;
      const jEnd = j0 + n * 4;
      for (let j = j0; j < jEnd; j += 4) {
        const a = c ^ w[j];
        const b = w[j + 1];
        const d = w[j + 2];
        const e = w[j + 3];
        c = t[3840 + (a & 0xff)] ^ t[3584 + ((a >>> 8) & 0xff)] ^
          t[3328 + ((a >>> 16) & 0xff)] ^ t[3072 + (a >>> 24)] ^
          t[2816 + (b & 0xff)] ^ t[2560 + ((b >>> 8) & 0xff)] ^
          t[2304 + ((b >>> 16) & 0xff)] ^ t[2048 + (b >>> 24)] ^
          t[1792 + (d & 0xff)] ^ t[1536 + ((d >>> 8) & 0xff)] ^
          t[1280 + ((d >>> 16) & 0xff)] ^ t[1024 + (d >>> 24)] ^
          t[768 + (e & 0xff)] ^ t[512 + ((e >>> 8) & 0xff)] ^
          t[256 + ((e >>> 16) & 0xff)] ^ t[e >>> 24];
      }
      i += n * 16;
    }
  }
  const end8 = end - ((end - i) & 7);
  while (i < end8) {
    const a = c ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
    c = t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^ t[1024 + (a >>> 24)] ^
      t[768 + buf[i + 4]] ^ t[512 + buf[i + 5]] ^ t[256 + buf[i + 6]] ^ t[buf[i + 7]];
    i += 8;
  }
  while (i < end) c = t[(c ^ buf[i++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
