/**
 * The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones'
 * complement sum of the data taken as big-endian 16-bit words, used by IPv4
 * (RFC 791), TCP (RFC 9293 §3.1) and UDP (RFC 768), the last two over a
 * pseudo-header (RFC 8200 §8.1 for IPv6).
 *
 * Partial sums are kept unfolded as plain non-negative numbers below 2^52 so
 * that pieces (pseudo-header, header, payload) can be added before one final
 * `foldChecksum`.
 *
 * `copyAndSum` copies a payload into a frame and sums it in one call; a
 * faster implementation (plugins/hw/copy_sum.ts, the CPU's add-with-carry)
 * can be installed with `useFastCopySum`.
 */

import { WordView } from "../bytes/words.ts";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const WORDS = new WordView();

/** Above this an unfolded sum is folded, so that sums stay exact below 2^52. */
const FOLD_AT = 2 ** 44;

function fold16(x: number): number {
  while (x > 0xffff) x = (x % 65536) + Math.floor(x / 65536);
  return x;
}

/**
 * The ones' complement partial sum of big-endian 16-bit words over
 * `buf[start, end)`, the first word starting at `start`; an odd trailing byte
 * is padded with zero (RFC 1071 §4.1). Added to `acc` and returned unfolded.
 */
export function sumWords(buf: Uint8Array, start: number, end: number, acc = 0): number {
  if (start < 0 || end > buf.length || start > end) {
    throw new RangeError(`sumWords: bad range ${start}..${end} of ${buf.length} bytes`);
  }
  // hi: bytes at even distance from start (high-order), lo: at odd distance.
  let hi = 0;
  let lo = 0;
  let i = start;
  if (LITTLE_ENDIAN && end - start >= 128) {
    while (((buf.byteOffset + i) & 3) !== 0) {
      if (((i - start) & 1) === 0) hi += buf[i];
      else lo += buf[i];
      i++;
    }
    const n = (end - i) >>> 2;
    const w = WORDS.of(buf);
    const j0 = (buf.byteOffset + i) >>> 2;
    const jEnd = j0 + n;
    // Whole 32-bit words add up exactly in a double (2^32 · 2^20 < 2^53, so
    // fold every 2^20 words); 2^16 ≡ 1 (mod 2^16 − 1), so folding the sum
    // gives the sum of the 16-bit halves.
    // Four running sums, so that the adds do not wait on each other.
    let s = 0;
    for (let j = j0; j < jEnd;) {
      const stop = Math.min(jEnd, j + 0x100000);
      const stop4 = stop - ((stop - j) & 3);
      let t0 = 0, t1 = 0, t2 = 0, t3 = 0;
      for (; j < stop4; j += 4) {
        t0 += w[j];
        t1 += w[j + 1];
        t2 += w[j + 2];
        t3 += w[j + 3];
      }
      for (; j < stop; j++) t0 += w[j];
      s = fold16(s + t0 + t1 + t2 + t3);
    }
    // The sum of little-endian words is the byte-swapped big-endian sum
    // (RFC 1071 §2(B)); a region starting at an odd distance swaps back.
    s = fold16(s);
    if (((i - start) & 1) === 0) s = ((s & 0xff) << 8) | (s >>> 8);
    acc += s;
    i += n * 4;
  }
  const e8 = end - ((end - i) & 7);
  if (((i - start) & 1) === 0) {
    while (i < e8) {
      hi += buf[i] + buf[i + 2] + buf[i + 4] + buf[i + 6];
      lo += buf[i + 1] + buf[i + 3] + buf[i + 5] + buf[i + 7];
      i += 8;
    }
  } else {
    while (i < e8) {
      lo += buf[i] + buf[i + 2] + buf[i + 4] + buf[i + 6];
      hi += buf[i + 1] + buf[i + 3] + buf[i + 5] + buf[i + 7];
      i += 8;
    }
  }
  while (i < end) {
    if (((i - start) & 1) === 0) hi += buf[i];
    else lo += buf[i];
    i++;
  }
  const r = acc + hi * 256 + lo;
  return r < FOLD_AT ? r : fold16(r);
}

/**
 * `copyAndSum`'s signature: copy `src[srcStart, srcStart + n)` to `dst` at
 * `dstStart` and return the ones' complement sum of the copied bytes as
 * big-endian words from `dstStart`, folded to 16 bits (0 only when every byte
 * is 0, so adding it to a running sum gives what `sumWords` would). A fast
 * implementation gets ranges already checked.
 */
export type CopySumFn = (
  src: Uint8Array,
  srcStart: number,
  dst: Uint8Array,
  dstStart: number,
  n: number,
) => number;

/** Below this many bytes the portable copy and sum beat a call into native code. */
export const FAST_COPY_SUM_MIN_BYTES = 64;
let fastCopySum: CopySumFn | null = null;

/**
 * Installs (or, with null, removes) a faster `copyAndSum`. The caller has
 * checked it against `copySumPortable` (plugins/hw/copy_sum.ts does).
 */
export function useFastCopySum(fn: CopySumFn | null): void {
  fastCopySum = fn;
}

/** Copies `n` bytes of `src` from `srcStart` into `dst` at `dstStart` and returns their sum (see `CopySumFn`). */
export function copyAndSum(
  src: Uint8Array,
  srcStart: number,
  dst: Uint8Array,
  dstStart: number,
  n: number,
): number {
  if (
    n < 0 || srcStart < 0 || srcStart + n > src.length || dstStart < 0 || dstStart + n > dst.length
  ) {
    throw new RangeError(
      `copyAndSum: bad ranges ${srcStart}+${n} of ${src.length} bytes into ${dstStart} of ${dst.length}`,
    );
  }
  if (fastCopySum !== null && n >= FAST_COPY_SUM_MIN_BYTES) {
    return fastCopySum(src, srcStart, dst, dstStart, n);
  }
  return copySumPortable(src, srcStart, dst, dstStart, n);
}

/** The portable `copyAndSum` (the reference for any faster one); the ranges must be valid. */
export function copySumPortable(
  src: Uint8Array,
  srcStart: number,
  dst: Uint8Array,
  dstStart: number,
  n: number,
): number {
  // A view per copy costs as much as a short copy: avoid it when the range is
  // the whole source (the usual case) or tiny.
  if (srcStart === 0 && n === src.length) dst.set(src, dstStart);
  else if (n <= 64) { for (let i = 0; i < n; i++) dst[dstStart + i] = src[srcStart + i]; }
  else dst.set(src.subarray(srcStart, srcStart + n), dstStart);
  return fold16(sumWords(dst, dstStart, dstStart + n));
}

/**
 * Folds a partial sum to 16 bits and complements it: the value to store in a
 * checksum field. A result of 0 is returned as 0 (UDP callers send 0xffff).
 */
export function foldChecksum(acc: number): number {
  return ~fold16(acc) & 0xffff;
}

/** The Internet checksum of `buf[start, end)`. */
export function internetChecksum(buf: Uint8Array, start: number, end: number): number {
  return foldChecksum(sumWords(buf, start, end));
}

/** The partial sum of the IPv4 pseudo-header (RFC 9293 §3.1, RFC 768). */
export function pseudoHeaderSumV4(
  src: Uint8Array,
  dst: Uint8Array,
  proto: number,
  l4Length: number,
): number {
  return ((src[0] << 8) | src[1]) + ((src[2] << 8) | src[3]) +
    ((dst[0] << 8) | dst[1]) + ((dst[2] << 8) | dst[3]) +
    proto + l4Length;
}

/** The partial sum of the IPv6 pseudo-header (RFC 8200 §8.1). */
export function pseudoHeaderSumV6(
  src: Uint8Array,
  dst: Uint8Array,
  nextHeader: number,
  l4Length: number,
): number {
  let s = 0;
  for (let i = 0; i < 16; i += 2) s += ((src[i] << 8) | src[i + 1]) + ((dst[i] << 8) | dst[i + 1]);
  return s + Math.floor(l4Length / 65536) + (l4Length % 65536) + nextHeader;
}
