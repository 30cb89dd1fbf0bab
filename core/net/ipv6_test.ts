import { assert, assertBytesEqual, assertEquals, assertThrows } from "../../tests/assert.ts";
import { ByteReader, DecodeError } from "../bytes/cursor.ts";
import { fromHex } from "../bytes/hex.ts";
import { decodeIpv6, encodeIpv6Header, newIpv6Header } from "./ipv6.ts";

const LOOPBACK = fromHex("00000000000000000000000000000001");
/** A real IPv6 header (tcpdump -i lo, curl to [::1]) carrying 116 bytes of TCP. */
const HDR = fromHex("6003662400740640" + "00000000000000000000000000000001".repeat(2));

function withPayload(hdr: Uint8Array, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(hdr.length + payload.length);
  p.set(hdr);
  p.set(payload, hdr.length);
  return p;
}

/** An IPv6 packet: fixed header with `next`, then `ext` bytes, then `upper` bytes. */
function build(next: number, ext: string, upperLen: number): Uint8Array {
  const e = fromHex(ext);
  const buf = new Uint8Array(40 + e.length + upperLen);
  encodeIpv6Header(buf, 0, {
    payloadLength: e.length + upperLen,
    nextHeader: next,
    src: LOOPBACK,
    dst: LOOPBACK,
  });
  buf.set(e, 40);
  return buf;
}

Deno.test("decodeIpv6() reads every field of a real header", () => {
  const p = withPayload(HDR, new Uint8Array(116));
  const r = new ByteReader(p);
  const h = decodeIpv6(r);
  assertEquals(h.version, 6);
  assertEquals(h.trafficClass, 0);
  assertEquals(h.flowLabel, 0x36624);
  assertEquals(h.payloadLength, 116);
  assertEquals(h.nextHeader, 6);
  assertEquals(h.hopLimit, 64);
  assertBytesEqual(h.src, LOOPBACK);
  assertBytesEqual(h.dst, LOOPBACK);
  assertEquals(h.protocol, 6);
  assertEquals(h.payloadOffset, 40);
  assertEquals(h.payloadEnd, 156);
  assertEquals(h.isFragment, false);
  assertEquals(h.hasFragmentHeader, false);
  assertEquals(r.pos, 40);
});

Deno.test("decodeIpv6() walks hop-by-hop, routing, destination options, fragment and AH", () => {
  const ext = "2b00" + "010400000000" + // hop-by-hop → routing, 8 bytes (PadN)
    "3c01" + "00".repeat(14) + // routing → dest opts, 16 bytes
    "2c00" + "010400000000" + // dest opts → fragment, 8 bytes
    "3300" + "0001" + "deadbeef" + // fragment → AH, offset 0, M=1
    "0604" + "00".repeat(22); // AH → TCP, (4 + 2) * 4 = 24 bytes
  const p = build(0, ext, 20);
  const h = decodeIpv6(new ByteReader(p));
  assertEquals(h.nextHeader, 0);
  assertEquals(h.protocol, 6);
  assertEquals(h.payloadOffset, 40 + 64);
  assertEquals(h.hasFragmentHeader, true);
  assertEquals(h.isFragment, true);
  assertEquals(h.mf, true);
  assertEquals(h.fragmentOffset, 0);
  assertEquals(h.fragmentId, 0xdeadbeef);
});

Deno.test("decodeIpv6() stops after a fragment header with a non-zero offset", () => {
  const p = build(44, "0600" + "0010" + "00000007", 100);
  const h = decodeIpv6(new ByteReader(p));
  assertEquals([h.protocol, h.payloadOffset, h.fragmentOffset, h.mf, h.isFragment], [
    6,
    48,
    2,
    false,
    true,
  ]);
  const atomic = decodeIpv6(new ByteReader(build(44, "1100" + "0000" + "00000001", 8)));
  assertEquals([atomic.protocol, atomic.hasFragmentHeader, atomic.isFragment], [17, true, false]);
});

Deno.test("decodeIpv6() stops at ICMPv6, no-next-header, ESP and unknown headers", () => {
  for (const next of [58, 59, 50, 17, 253]) {
    const h = decodeIpv6(new ByteReader(build(next, "", 8)));
    assertEquals([h.protocol, h.payloadOffset], [next, 40]);
  }
  const h = decodeIpv6(new ByteReader(build(60, "3b00" + "010400000000", 0)));
  assertEquals([h.protocol, h.payloadOffset], [59, 48]);
});

Deno.test("decodeIpv6() bounds the payload by payload length, excluding link padding", () => {
  const p = withPayload(HDR, new Uint8Array(120));
  assertEquals(decodeIpv6(new ByteReader(p)).payloadEnd, 156);
});

Deno.test("decodeIpv6() takes a zero payload length with hop-by-hop as a jumbogram", () => {
  const p = build(0, "0600" + "c2040001000c", 12);
  p[4] = 0;
  p[5] = 0;
  const h = decodeIpv6(new ByteReader(p));
  assertEquals([h.payloadEnd, h.protocol, h.payloadOffset], [p.length, 6, 48]);
});

Deno.test("decodeIpv6() rejects a version other than 6", () => {
  const p = withPayload(HDR, new Uint8Array(116));
  p[0] = 0x45;
  assertThrows(() => decodeIpv6(new ByteReader(p)), DecodeError, "IPv6 version 4 != 6");
});

Deno.test("decodeIpv6() rejects a payload length beyond the data", () => {
  const p = withPayload(HDR, new Uint8Array(115));
  assertThrows(
    () => decodeIpv6(new ByteReader(p)),
    DecodeError,
    "IPv6 payload length 116 > 115 bytes available",
  );
});

Deno.test("decodeIpv6() rejects an extension header running past the payload", () => {
  const p = build(0, "0601" + "000000000000", 8); // says 16 bytes, 16 left: fine
  assertEquals(decodeIpv6(new ByteReader(p)).payloadOffset, 56);
  const q = build(0, "0602" + "000000000000", 8); // says 24 bytes, 16 left
  assertThrows(
    () => decodeIpv6(new ByteReader(q)),
    DecodeError,
    "IPv6 extension header 0 length 24 > 16 bytes left",
  );
  const ah = build(51, "0605" + "00".repeat(14), 0); // AH (5 + 2) * 4 = 28 > 16
  assertThrows(() => decodeIpv6(new ByteReader(ah)), DecodeError, "extension header 51 length 28");
  const frag = build(44, "0600", 4);
  assertThrows(
    () => decodeIpv6(new ByteReader(frag)),
    DecodeError,
    "IPv6 fragment header: 6 bytes < 8",
  );
});

Deno.test("decodeIpv6() rejects every truncation of a header chain", () => {
  const p = build(0, "2c00010400000000" + "0600000000000001", 0);
  decodeIpv6(new ByteReader(p));
  for (let n = 0; n < p.length; n++) {
    assertThrows(() => decodeIpv6(new ByteReader(p, 0, n)), DecodeError);
    assertThrows(() => decodeIpv6(new ByteReader(p), undefined, n), DecodeError);
  }
});

Deno.test("decodeIpv6() fills the caller's object and resets fragment fields", () => {
  const out = newIpv6Header();
  decodeIpv6(new ByteReader(build(44, "0600" + "0011" + "00000007", 8)), out);
  assertEquals(out.isFragment, true);
  assert(decodeIpv6(new ByteReader(build(6, "", 20)), out) === out);
  assertEquals([out.isFragment, out.hasFragmentHeader, out.fragmentId], [false, false, 0]);
});

Deno.test("encodeIpv6Header() reproduces a real header byte for byte", () => {
  const buf = new Uint8Array(50).fill(0xaa);
  const end = encodeIpv6Header(buf, 3, {
    flowLabel: 0x36624,
    payloadLength: 116,
    nextHeader: 6,
    src: LOOPBACK,
    dst: LOOPBACK,
  });
  assertEquals(end, 43);
  assertBytesEqual(buf.subarray(3, 43), HDR);
  assertEquals([buf[2], buf[43]], [0xaa, 0xaa]);
  encodeIpv6Header(buf, 0, {
    trafficClass: 0xb8,
    flowLabel: 0xfffff,
    payloadLength: 0,
    nextHeader: 59,
    hopLimit: 1,
    src: LOOPBACK,
    dst: LOOPBACK,
  });
  const h = decodeIpv6(new ByteReader(buf, 0, 40));
  assertEquals([h.trafficClass, h.flowLabel, h.hopLimit, h.protocol], [0xb8, 0xfffff, 1, 59]);
});

Deno.test("encodeIpv6Header() refuses overflow and bad addresses", () => {
  const f = { payloadLength: 0, nextHeader: 59, src: LOOPBACK, dst: LOOPBACK };
  assertThrows(() => encodeIpv6Header(new Uint8Array(39), 0, f), RangeError, "overflow");
  assertThrows(
    () => encodeIpv6Header(new Uint8Array(40), 0, { ...f, src: new Uint8Array(4) }),
    RangeError,
  );
  assertThrows(
    () => encodeIpv6Header(new Uint8Array(40), 0, { ...f, payloadLength: 65536 }),
    RangeError,
  );
});
