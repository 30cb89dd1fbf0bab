import { assert, assertBytesEqual, assertEquals, assertThrows } from "../../tests/assert.ts";
import { ByteReader, DecodeError } from "../bytes/cursor.ts";
import { fromHex } from "../bytes/hex.ts";
import { pseudoHeaderSumV4, pseudoHeaderSumV6 } from "./checksum.ts";
import { decodeUdp, encodeUdpHeader, fillUdpChecksum, newUdpHeader } from "./udp.ts";

/** A real datagram (tcpdump -i lo, "hello udp" to 127.0.0.1:18081); its checksum is offloaded. */
const DGRAM = fromHex("d10f46a10011fe2468656c6c6f20756470");
const LO4 = fromHex("7f000001");
const LO6 = fromHex("00000000000000000000000000000001");

Deno.test("decodeUdp() reads a real datagram", () => {
  const r = new ByteReader(DGRAM);
  const u = decodeUdp(r);
  assertEquals([u.srcPort, u.dstPort, u.length, u.checksum, u.payloadOffset], [
    53519,
    18081,
    17,
    0xfe24,
    8,
  ]);
  assertBytesEqual(u.payload, new TextEncoder().encode("hello udp"));
  assertEquals(r.pos, 17);
  assertEquals(u.payload.buffer, DGRAM.buffer, "zero-copy");
});

Deno.test("decodeUdp() bounds the payload by the UDP length", () => {
  const p = new Uint8Array(DGRAM.length + 5);
  p.set(DGRAM);
  assertEquals(decodeUdp(new ByteReader(p)).payload.length, 9);
});

Deno.test("decodeUdp() rejects a length below 8 or beyond the data", () => {
  const p = DGRAM.slice();
  p[5] = 7;
  assertThrows(() => decodeUdp(new ByteReader(p)), DecodeError, "UDP length 7 < 8");
  p[5] = 18;
  assertThrows(
    () => decodeUdp(new ByteReader(p)),
    DecodeError,
    "UDP length 18 > 17 bytes available",
  );
  p[5] = 0;
  assertThrows(() => decodeUdp(new ByteReader(p)), DecodeError, "UDP length 0 < 8");
});

Deno.test("decodeUdp() takes a zero length over 65535 bytes as a jumbogram", () => {
  const p = new Uint8Array(70000);
  p.set(DGRAM.subarray(0, 8));
  p[4] = 0;
  p[5] = 0;
  assertEquals(decodeUdp(new ByteReader(p)).payload.length, 70000 - 8);
});

Deno.test("decodeUdp() rejects every truncation of the header", () => {
  for (let n = 0; n < 17; n++) {
    assertThrows(() => decodeUdp(new ByteReader(DGRAM, 0, n)), DecodeError);
    assertThrows(() => decodeUdp(new ByteReader(DGRAM), undefined, n), DecodeError);
  }
});

Deno.test("decodeUdp() fills the caller's object", () => {
  const out = newUdpHeader();
  assert(decodeUdp(new ByteReader(DGRAM), out) === out);
  assertEquals(out.srcPort, 53519);
});

Deno.test("encodeUdpHeader() with fillUdpChecksum() gives tshark's checksum", () => {
  const buf = new Uint8Array(20).fill(0xaa);
  const end = encodeUdpHeader(buf, 1, 53519, 18081, 17);
  assertEquals(end, 9);
  assertEquals(buf[0], 0xaa);
  buf.set(new TextEncoder().encode("hello udp"), end);
  // tshark -o udp.check_checksum:TRUE -e udp.checksum_calculated
  assertEquals(fillUdpChecksum(buf, 1, 18, pseudoHeaderSumV4(LO4, LO4, 17, 17)), 0xc0c1);
  assertBytesEqual(buf.subarray(1, 9), fromHex("d10f46a10011c0c1"));
});

Deno.test("fillUdpChecksum() sends a computed 0 as 0xffff", () => {
  // Choose data so that the sum is 0xffff: checksum 0 becomes 0xffff (RFC 768).
  const buf = new Uint8Array(10);
  encodeUdpHeader(buf, 0, 0, 0, 10);
  const pseudo = pseudoHeaderSumV6(LO6, LO6, 17, 10);
  // sum so far: pseudo + 10 (length field); make the data word fill up to 0xffff
  let s = pseudo + 10;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  const w = 0xffff - s;
  buf[8] = w >>> 8;
  buf[9] = w & 0xff;
  assertEquals(fillUdpChecksum(buf, 0, 10, pseudo), 0xffff);
});

Deno.test("encodeUdpHeader() refuses overflow and bad lengths", () => {
  assertThrows(() => encodeUdpHeader(new Uint8Array(7), 0, 1, 2, 8), RangeError, "overflow");
  assertThrows(() => encodeUdpHeader(new Uint8Array(8), 0, 1, 2, 7), RangeError, "length 7");
});
