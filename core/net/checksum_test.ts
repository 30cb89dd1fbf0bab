import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { fromHex } from "../bytes/hex.ts";
import {
  copyAndSum,
  type CopySumFn,
  copySumPortable,
  FAST_COPY_SUM_MIN_BYTES,
  foldChecksum,
  internetChecksum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  sumWords,
  useFastCopySum,
} from "./checksum.ts";

/** Frames 4, 16 and 26 of a `tcpdump -i lo` capture of curl and a UDP send (see link_test.ts). */
const TCP4 = fromHex(
  "00000000000000000000000008004500008c16814000400625e97f0000017f000001c8b246a0647014036662aa2b80180040fe8000000101080ae13b9f6ccba46d52474554202f696e6465782e74787420485454502f312e310d0a486f73743a203132372e302e302e313a31383038300d0a557365722d4167656e743a206375726c2f372e38382e310d0a4163636570743a202a2f2a0d0a0d0a",
);
const TCP6 = fromHex(
  "00000000000000000000000086dd60036624007406400000000000000000000000000000000100000000000000000000000000000001ac0646a02f03801bbee4844d80180040007c00000101080aec8028e2f5ab7fdc474554202f696e6465782e74787420485454502f312e310d0a486f73743a205b3a3a315d3a31383038300d0a557365722d4167656e743a206375726c2f372e38382e310d0a4163636570743a202a2f2a0d0a0d0a",
);
const UDP4 = fromHex(
  "0000000000000000000000000800450000251ada4000401121ec7f0000017f000001d10f46a10011fe2468656c6c6f20756470",
);

function naiveChecksum(buf: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i += 2) {
    s += (buf[i] << 8) | (i + 1 < end ? buf[i + 1] : 0);
    s = (s & 0xffff) + (s >>> 16);
  }
  return ~s & 0xffff;
}

/** The checksum of a segment with its checksum field (at `ckOff`) taken as zero. */
function withZeroField(buf: Uint8Array, start: number, end: number, ckOff: number, acc: number) {
  const copy = buf.slice();
  copy[ckOff] = 0;
  copy[ckOff + 1] = 0;
  return foldChecksum(sumWords(copy, start, end, acc));
}

Deno.test("sumWords() and foldChecksum() give the RFC 1071 §3 example", () => {
  const b = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assertEquals(sumWords(b, 0, 8), 0x2ddf0);
  assertEquals(foldChecksum(0x2ddf0), 0x220d);
  assertEquals(internetChecksum(b, 0, 8), 0x220d);
});

Deno.test("sumWords() pads an odd trailing byte with zero", () => {
  assertEquals(sumWords(new Uint8Array([0x01]), 0, 1), 0x0100);
  assertEquals(sumWords(new Uint8Array([0x12, 0x34, 0x56]), 0, 3), 0x1234 + 0x5600);
});

Deno.test("sumWords() starts words at an odd start", () => {
  const b = new Uint8Array([0xff, 0x12, 0x34, 0x56]);
  assertEquals(sumWords(b, 1, 4), 0x1234 + 0x5600);
  assertEquals(sumWords(b, 1, 1), 0);
  assertEquals(sumWords(b, 0, 0, 77), 77);
});

Deno.test("foldChecksum() of zero is 0xffff and of 0xffff is 0", () => {
  assertEquals(foldChecksum(0), 0xffff);
  assertEquals(foldChecksum(0xffff), 0);
  assertEquals(foldChecksum(0x1fffe), 0);
  assertEquals(foldChecksum(2 ** 51 + 5), naiveFold(2 ** 51 + 5));
});

function naiveFold(x: number): number {
  while (x > 0xffff) x = (x % 65536) + Math.floor(x / 65536);
  return ~x & 0xffff;
}

Deno.test("internetChecksum() of a real IPv4 header is 0 and matches the stored field", () => {
  assertEquals(internetChecksum(TCP4, 14, 34), 0);
  assertEquals(withZeroField(TCP4, 14, 34, 24, 0), 0x25e9);
  assertEquals(internetChecksum(UDP4, 14, 34), 0);
});

Deno.test("pseudoHeaderSumV4() with sumWords() gives tshark's TCP and UDP checksums", () => {
  const src = TCP4.subarray(26, 30);
  const dst = TCP4.subarray(30, 34);
  const tcpLen = TCP4.length - 34;
  // tshark -o tcp.check_checksum:TRUE -e tcp.checksum_calculated
  assertEquals(
    withZeroField(TCP4, 34, TCP4.length, 34 + 16, pseudoHeaderSumV4(src, dst, 6, tcpLen)),
    0xf19a,
  );
  const udpLen = UDP4.length - 34;
  const us = UDP4.subarray(26, 30);
  const ud = UDP4.subarray(30, 34);
  assertEquals(
    withZeroField(UDP4, 34, UDP4.length, 34 + 6, pseudoHeaderSumV4(us, ud, 17, udpLen)),
    0xc0c1,
  );
});

Deno.test("pseudoHeaderSumV6() with sumWords() gives tshark's TCP checksum", () => {
  const src = TCP6.subarray(22, 38);
  const dst = TCP6.subarray(38, 54);
  const len = TCP6.length - 54;
  assertEquals(
    withZeroField(TCP6, 54, TCP6.length, 54 + 16, pseudoHeaderSumV6(src, dst, 6, len)),
    0x22b8,
  );
});

Deno.test("pseudo-header sums fold to the partial checksums Linux leaves on loopback", () => {
  // CHECKSUM_PARTIAL: the field holds the folded, uncomplemented pseudo-header sum.
  const p4 = pseudoHeaderSumV4(TCP4.subarray(26, 30), TCP4.subarray(30, 34), 6, TCP4.length - 34);
  assertEquals(~foldChecksum(p4) & 0xffff, 0xfe80);
  const p6 = pseudoHeaderSumV6(TCP6.subarray(22, 38), TCP6.subarray(38, 54), 6, TCP6.length - 54);
  assertEquals(~foldChecksum(p6) & 0xffff, 0x007c);
});

Deno.test("pseudoHeaderSumV6() counts a length above 65535 as two words", () => {
  const z = new Uint8Array(16);
  assertEquals(pseudoHeaderSumV6(z, z, 6, 0x12345), 0x1 + 0x2345 + 6);
});

Deno.test("sumWords() matches a naive reference on random buffers, starts and lengths", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const backing = new Uint8Array(5000);
  for (let k = 0; k < 2000; k++) {
    for (let i = 0; i < backing.length; i++) backing[i] = (rnd() * 256) | 0;
    const base = (rnd() * 8) | 0;
    const buf = backing.subarray(base);
    const start = (rnd() * 40) | 0;
    const len = k % 4 === 0 ? (rnd() * 4900) | 0 : (rnd() * 200) | 0;
    const end = Math.min(start + len, buf.length);
    assertEquals(internetChecksum(buf, start, end), naiveChecksum(buf, start, end), `k ${k}`);
    // Split at an even distance from start: the partial sums add up.
    const mid = start + 2 * ((((end - start) / 2) * rnd()) | 0);
    const acc = sumWords(buf, mid, end, sumWords(buf, start, mid));
    assertEquals(foldChecksum(acc), naiveChecksum(buf, start, end));
  }
});

Deno.test("sumWords() of all-0xff data stays below 2^52 and exact", () => {
  const buf = new Uint8Array(1 << 20).fill(0xff);
  let acc = 0;
  for (let k = 0; k < 64; k++) acc = sumWords(buf, 0, buf.length, acc);
  assert(acc < 2 ** 52 && Number.isInteger(acc));
  assertEquals(foldChecksum(acc), 0);
  assertEquals(internetChecksum(buf, 1, buf.length - 1), naiveChecksum(buf, 1, buf.length - 1));
});

Deno.test("sumWords() stays exact over a region of more than 2^20 words", () => {
  const buf = new Uint8Array((1 << 22) + 64).fill(0xff);
  buf[5] = 0x12;
  let naive = 0;
  for (let i = 1; i + 1 < buf.length; i += 2) naive += (buf[i] << 8) | buf[i + 1];
  if ((buf.length - 1) % 2 === 1) naive += buf[buf.length - 1] << 8;
  assertEquals(foldChecksum(sumWords(buf, 1, buf.length)), foldChecksum(naive));
});

Deno.test("copyAndSum() copies the range and returns its folded sum, at every alignment", () => {
  let seed = 777;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const src = new Uint8Array(3000);
  for (let i = 0; i < src.length; i++) src[i] = (rnd() * 256) | 0;
  for (let k = 0; k < 600; k++) {
    const n = k < 300 ? k : (rnd() * 2900) | 0;
    const s = (rnd() * (src.length - n)) | 0;
    const dst = new Uint8Array(n + 40).fill(0xaa);
    const d = (rnd() * 40) | 0;
    const got = copyAndSum(src, s, dst, d, n);
    assertEquals(dst.subarray(d, d + n), src.subarray(s, s + n), `k ${k}`);
    assertEquals(dst[d - 1] ?? 0xaa, 0xaa);
    assertEquals(dst[d + n] ?? 0xaa, 0xaa);
    assert(got >= 0 && got <= 0xffff, `k ${k}: ${got} is not folded`);
    // The same residue as sumWords over the copy, so a running sum is unchanged.
    assertEquals(foldChecksum(got + 0x1234), foldChecksum(sumWords(dst, d, d + n, 0x1234)));
    assertEquals(foldChecksum(got), naiveChecksum(dst, d, d + n));
  }
  // Zero only for all-zero bytes (so it adds to a running sum as sumWords would).
  assertEquals(copyAndSum(new Uint8Array(100), 0, new Uint8Array(100), 0, 100), 0);
  assertEquals(copyAndSum(new Uint8Array(100).fill(0xff), 0, new Uint8Array(100), 0, 100), 0xffff);
});

Deno.test("copyAndSum() refuses ranges outside either buffer", () => {
  const a = new Uint8Array(10), b = new Uint8Array(10);
  assertThrows(() => copyAndSum(a, 5, b, 0, 6), RangeError, "bad ranges 5+6 of 10");
  assertThrows(() => copyAndSum(a, 0, b, 5, 6), RangeError, "into 5 of 10");
  assertThrows(() => copyAndSum(a, -1, b, 0, 1), RangeError);
  assertThrows(() => copyAndSum(a, 0, b, 0, -1), RangeError);
});

Deno.test("useFastCopySum() installs a fast version for ranges of 64 bytes and more only", () => {
  const calls: number[] = [];
  const fast: CopySumFn = (src, s, dst, d, n) => {
    calls.push(n);
    return copySumPortable(src, s, dst, d, n);
  };
  const src = new Uint8Array(200).fill(3), dst = new Uint8Array(200);
  useFastCopySum(fast);
  try {
    copyAndSum(src, 0, dst, 0, FAST_COPY_SUM_MIN_BYTES - 1);
    copyAndSum(src, 0, dst, 0, FAST_COPY_SUM_MIN_BYTES);
    copyAndSum(src, 1, dst, 3, 150);
  } finally {
    useFastCopySum(null);
  }
  copyAndSum(src, 0, dst, 0, 150);
  assertEquals(calls, [FAST_COPY_SUM_MIN_BYTES, 150]);
});
