import { assert, assertBytesEqual, assertEquals, assertThrows } from "../../tests/assert.ts";
import { ByteReader, DecodeError } from "../bytes/cursor.ts";
import { fromHex } from "../bytes/hex.ts";
import { internetChecksum } from "./checksum.ts";
import { decodeIpv4, encodeIpv4Header, ipv4HeaderChecksumOk, newIpv4Header } from "./ipv4.ts";

/** A real IPv4 header (tcpdump -i lo, curl to 127.0.0.1) carrying 120 bytes of TCP. */
const HDR = fromHex("4500008c16814000400625e97f0000017f000001");

function packet(hdr: Uint8Array, payloadLen: number, padding = 0): Uint8Array {
  const p = new Uint8Array(hdr.length + payloadLen + padding);
  p.set(hdr);
  for (let i = hdr.length; i < p.length; i++) p[i] = i & 0xff;
  return p;
}

Deno.test("decodeIpv4() reads every field of a real header", () => {
  const p = packet(HDR, 120);
  const r = new ByteReader(p);
  const h = decodeIpv4(r);
  assertEquals(h.version, 4);
  assertEquals(h.headerLength, 20);
  assertEquals(h.dscp, 0);
  assertEquals(h.ecn, 0);
  assertEquals(h.totalLength, 140);
  assertEquals(h.id, 0x1681);
  assertEquals(h.df, true);
  assertEquals(h.mf, false);
  assertEquals(h.fragmentOffset, 0);
  assertEquals(h.isFragment, false);
  assertEquals(h.ttl, 64);
  assertEquals(h.protocol, 6);
  assertEquals(h.checksum, 0x25e9);
  assertBytesEqual(h.src, new Uint8Array([127, 0, 0, 1]));
  assertBytesEqual(h.dst, new Uint8Array([127, 0, 0, 1]));
  assertEquals(h.options.length, 0);
  assertEquals(h.payloadOffset, 20);
  assertEquals(h.payloadEnd, 140);
  assertEquals(r.pos, 20);
  assert(ipv4HeaderChecksumOk(p, 0, 20));
});

Deno.test("decodeIpv4() bounds the payload by total length, excluding link padding", () => {
  const hdr = fromHex("45000028000000004006" + "0000" + "0a0000010a000002");
  const p = packet(hdr, 20, 6);
  const h = decodeIpv4(new ByteReader(p));
  assertEquals(h.payloadEnd, 40);
  assertEquals(p.length, 46);
});

Deno.test("decodeIpv4() reads DSCP, ECN, options and fragment fields", () => {
  const opts = fromHex("01010100"); // NOP NOP NOP EOL
  const buf = new Uint8Array(64);
  const end = encodeIpv4Header(buf, 0, {
    dscp: 46,
    ecn: 3,
    totalLength: 24 + 8,
    id: 0xbeef,
    mf: true,
    fragmentOffset: 0x1abc,
    ttl: 3,
    protocol: 17,
    src: fromHex("c0a80001"),
    dst: fromHex("c0a80002"),
    options: opts,
  });
  assertEquals(end, 24);
  const h = decodeIpv4(new ByteReader(buf, 0, 32));
  assertEquals([h.dscp, h.ecn, h.headerLength, h.id, h.df, h.mf], [46, 3, 24, 0xbeef, false, true]);
  assertEquals([h.fragmentOffset, h.isFragment, h.ttl, h.protocol], [0x1abc, true, 3, 17]);
  assertBytesEqual(h.options, opts);
  assertEquals(h.payloadOffset, 24);
  assert(ipv4HeaderChecksumOk(buf, 0, 24));
});

Deno.test("decodeIpv4() marks a last fragment (offset, no MF) as a fragment", () => {
  const buf = new Uint8Array(28);
  encodeIpv4Header(buf, 0, {
    totalLength: 28,
    fragmentOffset: 1,
    protocol: 6,
    src: new Uint8Array(4),
    dst: new Uint8Array(4),
  });
  const h = decodeIpv4(new ByteReader(buf));
  assertEquals([h.mf, h.fragmentOffset, h.isFragment], [false, 1, true]);
});

Deno.test("decodeIpv4() rejects an IHL below 5", () => {
  const p = packet(HDR, 120);
  p[0] = 0x44;
  assertThrows(() => decodeIpv4(new ByteReader(p)), DecodeError, "IPv4 header length 16 < 20");
});

Deno.test("decodeIpv4() rejects a version other than 4", () => {
  const p = packet(HDR, 120);
  p[0] = 0x65;
  assertThrows(() => decodeIpv4(new ByteReader(p)), DecodeError, "IPv4 version 6 != 4");
});

Deno.test("decodeIpv4() rejects a total length beyond the data or below the header", () => {
  assertThrows(
    () => decodeIpv4(new ByteReader(packet(HDR, 119))),
    DecodeError,
    "IPv4 total length 140 > 139 bytes available",
  );
  const p = packet(HDR, 120);
  p[2] = 0;
  p[3] = 19;
  assertThrows(
    () => decodeIpv4(new ByteReader(p)),
    DecodeError,
    "IPv4 total length 19 < header length 20",
  );
  const q = packet(HDR, 120);
  q[0] = 0x4f; // 60-byte header, total 140: options run past nothing, fine
  assertEquals(decodeIpv4(new ByteReader(q)).options.length, 40);
  q[2] = 0;
  q[3] = 40;
  assertThrows(
    () => decodeIpv4(new ByteReader(q)),
    DecodeError,
    "total length 40 < header length 60",
  );
});

Deno.test("decodeIpv4() rejects every truncation of a header with options", () => {
  const buf = new Uint8Array(28);
  encodeIpv4Header(buf, 0, {
    totalLength: 28,
    protocol: 6,
    src: new Uint8Array(4),
    dst: new Uint8Array(4),
    options: new Uint8Array([1, 1, 1, 0, 1, 1, 1, 0]),
  });
  decodeIpv4(new ByteReader(buf));
  for (let n = 0; n < 28; n++) {
    assertThrows(() => decodeIpv4(new ByteReader(buf, 0, n)), DecodeError);
    assertThrows(() => decodeIpv4(new ByteReader(buf), undefined, n), DecodeError);
  }
});

Deno.test("decodeIpv4() fills the caller's object", () => {
  const out = newIpv4Header();
  assert(decodeIpv4(new ByteReader(packet(HDR, 120)), out) === out);
  assertEquals(out.totalLength, 140);
});

Deno.test("encodeIpv4Header() reproduces a real header byte for byte", () => {
  const buf = new Uint8Array(30).fill(0xaa);
  const end = encodeIpv4Header(buf, 5, {
    totalLength: 140,
    id: 0x1681,
    df: true,
    ttl: 64,
    protocol: 6,
    src: fromHex("7f000001"),
    dst: fromHex("7f000001"),
  });
  assertEquals(end, 25);
  assertBytesEqual(buf.subarray(5, 25), HDR);
  assertEquals(buf[4], 0xaa);
  assertEquals(internetChecksum(buf, 5, 25), 0);
});

Deno.test("encodeIpv4Header() refuses bad options, lengths and overflow", () => {
  const f = { totalLength: 20, protocol: 6, src: new Uint8Array(4), dst: new Uint8Array(4) };
  assertThrows(() => encodeIpv4Header(new Uint8Array(19), 0, f), RangeError, "overflow");
  assertThrows(
    () => encodeIpv4Header(new Uint8Array(40), 0, { ...f, options: new Uint8Array(3) }),
    RangeError,
  );
  assertThrows(
    () => encodeIpv4Header(new Uint8Array(40), 0, { ...f, totalLength: 70000 }),
    RangeError,
  );
  assertThrows(
    () => encodeIpv4Header(new Uint8Array(40), 0, { ...f, src: new Uint8Array(16) }),
    RangeError,
  );
});
