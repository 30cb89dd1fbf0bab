import { assert, assertBytesEqual, assertEquals, assertThrows } from "../../tests/assert.ts";
import { ByteReader, DecodeError } from "../bytes/cursor.ts";
import { fromHex } from "../bytes/hex.ts";
import { foldChecksum, pseudoHeaderSumV4, pseudoHeaderSumV6, sumWords } from "./checksum.ts";
import { encodeEthernet } from "./ethernet.ts";
import { encodeIpv4Header } from "./ipv4.ts";
import { encodeIpv6Header } from "./ipv6.ts";
import { decodeLink, decodeLinkAt, newParsedPacket, type ParsedPacket } from "./link.ts";
import { ACK, encodeTcpHeader, fillTcpChecksum, PSH } from "./tcp.ts";
import { encodeUdpHeader, fillUdpChecksum } from "./udp.ts";
import { concatBytes } from "../bytes/concat.ts";

const A4 = fromHex("0a000001");
const B4 = fromHex("0a000002");
const A6 = fromHex("20010db8000000000000000000000001");
const B6 = fromHex("20010db8000000000000000000000002");
const MAC1 = fromHex("020000000001");
const MAC2 = fromHex("020000000002");
const DATA = new TextEncoder().encode("hello");

/** An IPv4 (or IPv6) TCP segment carrying DATA, with valid checksums. */
function tcpPacket(v: 4 | 6): Uint8Array {
  const l4 = 20 + DATA.length;
  const hl = v === 4 ? 20 : 40;
  const p = new Uint8Array(hl + l4);
  if (v === 4) {
    encodeIpv4Header(p, 0, { totalLength: p.length, df: true, protocol: 6, src: A4, dst: B4 });
  } else encodeIpv6Header(p, 0, { payloadLength: l4, nextHeader: 6, src: A6, dst: B6 });
  const o = encodeTcpHeader(p, hl, {
    srcPort: 40000,
    dstPort: 443,
    seq: 0xfffffff0,
    ack: 12345,
    flags: PSH | ACK,
    window: 502,
  });
  p.set(DATA, o);
  const ps = v === 4 ? pseudoHeaderSumV4(A4, B4, 6, l4) : pseudoHeaderSumV6(A6, B6, 6, l4);
  fillTcpChecksum(p, hl, p.length, ps);
  return p;
}

function udpPacket(): Uint8Array {
  const p = new Uint8Array(20 + 8 + DATA.length);
  encodeIpv4Header(p, 0, { totalLength: p.length, protocol: 17, src: A4, dst: B4 });
  encodeUdpHeader(p, 20, 5353, 53, 8 + DATA.length);
  p.set(DATA, 28);
  fillUdpChecksum(p, 20, p.length, pseudoHeaderSumV4(A4, B4, 17, 8 + DATA.length));
  return p;
}

function ethernet(etherType: number, payload: Uint8Array, vlans?: number[]): Uint8Array {
  const h = new Uint8Array(14 + 4 * (vlans?.length ?? 0));
  encodeEthernet(h, 0, MAC1, MAC2, etherType, vlans);
  return concatBytes([h, payload]);
}

function sll(protocol: number, payload: Uint8Array, pktType = 4): Uint8Array {
  const h = fromHex("0000" + "0001" + "0006" + "0200000000010000" + "0000");
  h[1] = pktType;
  h[14] = protocol >> 8;
  h[15] = protocol & 0xff;
  return concatBytes([h, payload]);
}

function sll2(protocol: number, payload: Uint8Array, pktType = 0): Uint8Array {
  const h = fromHex("0000" + "0000" + "00000002" + "0001" + "00" + "06" + "0200000000010000");
  h[0] = protocol >> 8;
  h[1] = protocol & 0xff;
  h[10] = pktType;
  return concatBytes([h, payload]);
}

function expectTcp(p: ParsedPacket, v: number, l3: number): void {
  assertEquals(p.ipVersion, v);
  assertEquals(p.l3Offset, l3);
  assertBytesEqual(p.src, v === 4 ? A4 : A6);
  assertBytesEqual(p.dst, v === 4 ? B4 : B6);
  assertEquals([p.ipProto, p.ttl, p.isFragment], [6, 64, false]);
  assertEquals(p.l4Offset, l3 + (v === 4 ? 20 : 40));
  assertEquals([p.sport, p.dport, p.seq, p.ack, p.tcpFlags, p.window], [
    40000,
    443,
    0xfffffff0,
    12345,
    PSH | ACK,
    502,
  ]);
  assertBytesEqual(p.payload, DATA);
  assertEquals(p.tcp.headerLength, 20);
}

Deno.test("decodeLink() walks Ethernet to TCP over IPv4 and IPv6", () => {
  const p = newParsedPacket();
  assertEquals(decodeLink(1, ethernet(0x0800, tcpPacket(4)), p), true);
  expectTcp(p, 4, 14);
  assertEquals([p.linkType, p.etherType, p.vlans, p.sllPacketType], [1, 0x0800, [], -1]);
  assertBytesEqual(p.eth.src, MAC2);
  assertEquals(decodeLink(1, ethernet(0x86dd, tcpPacket(6)), p), true);
  expectTcp(p, 6, 14);
});

Deno.test("decodeLink() walks Ethernet VLAN and QinQ tags", () => {
  const p = newParsedPacket();
  const f = ethernet(0x0800, tcpPacket(4), [100, 200]);
  f[12] = 0x88;
  f[13] = 0xa8;
  decodeLink(1, f, p);
  expectTcp(p, 4, 22);
  assertEquals(p.vlans, [100, 200]);
});

Deno.test("decodeLink() excludes Ethernet padding from the payload", () => {
  const p = newParsedPacket();
  decodeLink(1, concatBytes([ethernet(0x0800, tcpPacket(4)), new Uint8Array(7)]), p);
  assertBytesEqual(p.payload, DATA);
  assertEquals(p.l4End, 14 + 45);
});

Deno.test("decodeLink() reads raw IP by its version nibble (101, 12, 14, 228, 229)", () => {
  const p = newParsedPacket();
  for (const lt of [101, 12, 14, 228, 229]) {
    decodeLink(lt, tcpPacket(4), p);
    expectTcp(p, 4, 0);
    assertEquals(p.etherType, 0x0800);
    decodeLink(lt, tcpPacket(6), p);
    expectTcp(p, 6, 0);
    assertEquals(p.etherType, 0x86dd);
  }
  assertThrows(() => decodeLink(101, fromHex("50000000"), p), DecodeError, "version 5");
  assertThrows(() => decodeLink(101, new Uint8Array(0), p), DecodeError, "version -1");
});

Deno.test("decodeLink() reads Linux cooked SLL (113) and SLL2 (276)", () => {
  const p = newParsedPacket();
  decodeLink(113, sll(0x0800, tcpPacket(4), 4), p);
  expectTcp(p, 4, 16);
  assertEquals(p.sllPacketType, 4);
  decodeLink(113, sll(0x86dd, tcpPacket(6), 0), p);
  expectTcp(p, 6, 16);
  assertEquals(p.sllPacketType, 0);
  decodeLink(276, sll2(0x0800, tcpPacket(4), 1), p);
  expectTcp(p, 4, 20);
  assertEquals(p.sllPacketType, 1);
  decodeLink(276, sll2(0x86dd, tcpPacket(6)), p);
  expectTcp(p, 6, 20);
  const tagged = sll(0x8100, concatBytes([fromHex("000a86dd"), tcpPacket(6)]));
  decodeLink(113, tagged, p);
  expectTcp(p, 6, 20);
  assertEquals(p.vlans, [10]);
});

Deno.test("decodeLink() reads BSD loopback (0) in either byte order and LOOP (108)", () => {
  const p = newParsedPacket();
  decodeLink(0, concatBytes([fromHex("02000000"), tcpPacket(4)]), p);
  expectTcp(p, 4, 4);
  decodeLink(0, concatBytes([fromHex("00000002"), tcpPacket(4)]), p);
  expectTcp(p, 4, 4);
  for (const fam of ["1e000000", "1c000000", "18000000", "0a000000", "0000001e"]) {
    decodeLink(0, concatBytes([fromHex(fam), tcpPacket(6)]), p);
    expectTcp(p, 6, 4);
  }
  decodeLink(108, concatBytes([fromHex("00000002"), tcpPacket(4)]), p);
  expectTcp(p, 4, 4);
  assertEquals(decodeLink(0, concatBytes([fromHex("07000000"), tcpPacket(4)]), p), false);
});

Deno.test("decodeLink() walks to UDP", () => {
  const p = newParsedPacket();
  assertEquals(decodeLink(1, ethernet(0x0800, udpPacket()), p), true);
  assertEquals([p.ipProto, p.sport, p.dport, p.l4Offset, p.seq, p.tcpFlags], [
    17,
    5353,
    53,
    34,
    0,
    0,
  ]);
  assertBytesEqual(p.payload, DATA);
  assertEquals(p.udp.length, 13);
});

Deno.test("decodeLink() reports non-IP frames with ipVersion 0 and clears old fields", () => {
  const p = newParsedPacket();
  decodeLink(1, ethernet(0x0800, tcpPacket(4)), p);
  const arp = ethernet(0x0806, new Uint8Array(28));
  assertEquals(decodeLink(1, arp, p), false);
  assertEquals(
    [p.ipVersion, p.etherType, p.sport, p.dport, p.seq, p.payload.length, p.src.length],
    [0, 0x0806, 0, 0, 0, 0, 0],
  );
  assertEquals(decodeLink(113, sll(0x0806, new Uint8Array(28)), p), false);
  assertEquals(decodeLink(276, sll2(0x88cc, new Uint8Array(10)), p), false);
});

Deno.test("decodeLink() does not parse L4 in fragments and gives the IP payload", () => {
  const p = newParsedPacket();
  const f = tcpPacket(4);
  f[6] = 0x20; // MF
  f[7] = 0;
  f[10] = f[11] = 0;
  assertEquals(decodeLink(101, f, p), true);
  assertEquals([p.isFragment, p.ipProto, p.sport, p.dport, p.l4Offset, p.payload.length], [
    true,
    6,
    0,
    0,
    20,
    25,
  ]);
  const g = concatBytes([
    tcpPacket(6).subarray(0, 40),
    fromHex("0600" + "0008" + "00000001"),
    new Uint8Array(16),
  ]);
  g[5] = 24;
  g[6] = 44;
  decodeLink(101, g, p);
  assertEquals([p.isFragment, p.ipProto, p.sport, p.l4Offset, p.payload.length], [
    true,
    6,
    0,
    48,
    16,
  ]);
  assertEquals(p.ip6.fragmentOffset, 1);
});

Deno.test("decodeLink() passes other IP protocols through with their payload", () => {
  const p = newParsedPacket();
  const icmp = new Uint8Array(28);
  encodeIpv4Header(icmp, 0, { totalLength: 28, protocol: 1, src: A4, dst: B4 });
  assertEquals(decodeLink(101, icmp, p), true);
  assertEquals([p.ipProto, p.sport, p.l4Offset, p.payload.length], [1, 0, 20, 8]);
});

Deno.test("decodeLinkAt() decodes frames in place in a shared buffer", () => {
  const a = ethernet(0x0800, tcpPacket(4));
  const b = ethernet(0x0800, udpPacket());
  const buf = concatBytes([new Uint8Array(3), a, b]);
  const r = new ByteReader(buf);
  const p = newParsedPacket();
  r.pos = 3;
  assertEquals(decodeLinkAt(1, r, 3 + a.length, p), true);
  expectTcp(p, 4, 17);
  r.pos = 3 + a.length;
  decodeLinkAt(1, r, buf.length, p);
  assertEquals([p.ipProto, p.sport, p.l3Offset, p.l4Offset], [
    17,
    5353,
    3 + a.length + 14,
    3 + a.length + 34,
  ]);
  assertBytesEqual(p.payload, DATA);
  assertEquals(p.payload.buffer, buf.buffer);
});

Deno.test("decodeLink() rejects an unsupported link type", () => {
  assertThrows(
    () => decodeLink(105, new Uint8Array(40), newParsedPacket()),
    DecodeError,
    "unsupported link type 105",
  );
});

Deno.test("decodeLink() rejects every truncation of each link type's frame", () => {
  const p = newParsedPacket();
  const frames: [number, Uint8Array][] = [
    [1, ethernet(0x0800, tcpPacket(4), [7])],
    [1, ethernet(0x86dd, tcpPacket(6))],
    [1, ethernet(0x0800, udpPacket())],
    [101, tcpPacket(6)],
    [113, sll(0x0800, tcpPacket(4))],
    [276, sll2(0x86dd, tcpPacket(6))],
    [0, concatBytes([fromHex("02000000"), tcpPacket(4)])],
  ];
  for (const [lt, f] of frames) {
    decodeLink(lt, f, p);
    // Followed by more bytes, as in a capture buffer: the frame end still bounds every read.
    const r = new ByteReader(concatBytes([f, new Uint8Array(64).fill(0x45)]));
    for (let n = 0; n < f.length; n++) {
      assertThrows(() => decodeLink(lt, f.subarray(0, n), p), DecodeError);
      r.pos = 0;
      assertThrows(() => decodeLinkAt(lt, r, n, p), DecodeError);
    }
  }
});

Deno.test("decodeLink() throws only DecodeError on random and mutated frames", () => {
  let seed = 99;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const p = newParsedPacket();
  const bases: [number, Uint8Array][] = [
    [1, ethernet(0x0800, tcpPacket(4), [7])],
    [1, ethernet(0x86dd, concatBytes([fromHex("0600" + "0008" + "00000001"), new Uint8Array(30)]))],
    [113, sll(0x86dd, tcpPacket(6))],
    [276, sll2(0x0800, udpPacket())],
    [101, tcpPacket(6)],
    [0, concatBytes([fromHex("1e000000"), tcpPacket(6)])],
  ];
  bases[1][1][14 + 6] = 0;
  bases[1][1][14 + 4] = 0;
  bases[1][1][14 + 5] = 48;
  bases[1][1][14] = 0x60;
  let decoded = 0;
  for (let k = 0; k < 20000; k++) {
    const [lt, base] = bases[k % bases.length];
    const f = base.slice();
    const flips = 1 + ((rnd() * 4) | 0);
    for (let j = 0; j < flips; j++) f[(rnd() * f.length) | 0] = (rnd() * 256) | 0;
    const frame = k % 7 === 0 ? f.map(() => (rnd() * 256) | 0) : f;
    try {
      decodeLink(lt, frame, p);
      decoded++;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  }
  assert(decoded > 1000, `only ${decoded} frames decoded`);
});

/** A minimal pcap reader (the project's own lives in core/format; this test stays independent). */
function readPcap(bytes: Uint8Array): { linkType: number; frames: Uint8Array[] } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, true);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  assert(le || dv.getUint32(0, false) === 0xa1b2c3d4, "pcap magic");
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  const frames: Uint8Array[] = [];
  for (let o = 24; o < bytes.length;) {
    const incl = dv.getUint32(o + 8, le);
    frames.push(bytes.subarray(o + 16, o + 16 + incl));
    o += 16 + incl;
  }
  return { linkType, frames };
}

function base64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function checkCapture(b64: string, linkType: number): void {
  const { linkType: lt, frames } = readPcap(base64(b64));
  assertEquals(lt, linkType);
  assertEquals(frames.length, EXPECTED.length);
  const p = newParsedPacket();
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    const [v, sport, dport, seq, ack, flags, win, len, ck] = EXPECTED[i];
    assertEquals(decodeLink(linkType, f, p), true, `frame ${i + 1}`);
    const got = [
      p.ipVersion,
      p.sport,
      p.dport,
      p.seq,
      p.ack,
      p.tcpFlags,
      p.window,
      p.payload.length,
    ];
    assertEquals(got, [v, sport, dport, seq, ack, flags, win, len], `frame ${i + 1}`);
    assertEquals(p.sllPacketType, linkType === 1 ? -1 : 0);
    // The checksum a correct sender writes, computed over the frame with the field zeroed.
    const copy = f.slice();
    const field = p.l4Offset + (p.ipProto === 6 ? 16 : 6);
    copy[field] = copy[field + 1] = 0;
    const l4Len = p.l4End - p.l4Offset;
    const ps = v === 4
      ? pseudoHeaderSumV4(p.src, p.dst, p.ipProto, l4Len)
      : pseudoHeaderSumV6(p.src, p.dst, p.ipProto, l4Len);
    assertEquals(
      foldChecksum(sumWords(copy, p.l4Offset, p.l4End, ps)),
      ck,
      `frame ${i + 1} checksum`,
    );
  }
}

Deno.test("decodeLink() reads a real Ethernet capture (tcpdump -i lo) as tshark does", () => {
  checkCapture(LO_PCAP, 1);
});

Deno.test("decodeLink() reads a real LINUX_SLL capture (tcpdump -i any -y LINUX_SLL) as tshark does", () => {
  checkCapture(SLL_PCAP, 113);
});

Deno.test("decodeLink() reads a real LINUX_SLL2 capture (tcpdump -i any -y LINUX_SLL2) as tshark does", () => {
  checkCapture(SLL2_PCAP, 276);
});

Deno.test("decodeLink() on a 1500-byte Ethernet/IPv4/TCP frame runs under 1 µs", () => {
  const f = ethernet(0x0800, tcpPacket(4));
  const big = new Uint8Array(1514);
  big.set(f);
  encodeIpv4Header(big, 14, { totalLength: 1500, protocol: 6, src: A4, dst: B4 });
  const p = newParsedPacket();
  for (let k = 0; k < 20000; k++) decodeLink(1, big, p);
  const t = performance.now();
  for (let k = 0; k < 200000; k++) decodeLink(1, big, p);
  const ns = (performance.now() - t) * 1e6 / 200000;
  assert(ns < 5000, `decodeLink took ${ns.toFixed(0)} ns per frame`);
});
/**
 * Real captures of the same traffic (curl to a Python http.server on
 * 127.0.0.1:18080 and [::1]:18080, then "hello udp" to port 18081 over v4 and
 * v6), made here with:
 *   tcpdump -i lo -w lo.pcap 'port 18080 or port 18081'
 *   tcpdump -i any -y LINUX_SLL -w sll.pcap ...
 *   tcpdump -i any -y LINUX_SLL2 -w sll2.pcap ...
 * and base64-encoded. EXPECTED is tshark's reading of each frame:
 *   tshark -r lo.pcap -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -T fields
 *     -e ip.version -e ipv6.version -e tcp.srcport -e tcp.dstport -e udp.srcport
 *     -e udp.dstport -e tcp.seq_raw -e tcp.ack_raw -e tcp.flags
 *     -e tcp.window_size_value -e tcp.len -e udp.length
 *     -e tcp.checksum_calculated -e udp.checksum_calculated
 * (Loopback leaves partial checksums in the frames; the calculated ones are
 * what a correct sender would have written.)
 */

const LO_PCAP =
  "1MOyoQIABAAAAAAAAAAAAAAABAABAAAAADYHa4HkDQBKAAAASgAAAAAAAAAAAAAAAAAAAAgARQAAPBZ/QABABiY7fwAAAX8A" +
  "AAHIskagZHAUAgAAAACgAv/X/jAAAAIE/9cEAggK4TufbAAAAAABAwMKADYHa5nkDQBKAAAASgAAAAAAAAAAAAAAAAAAAAgA" +
  "RQAAPAAAQABABjy6fwAAAX8AAAFGoMiyZmKqKmRwFAOgEv/L/jAAAAIE/9cEAggKy6RtUuE7n2wBAwMKADYHa63kDQBCAAAA" +
  "QgAAAAAAAAAAAAAAAAAAAAgARQAANBaAQABABiZCfwAAAX8AAAHIskagZHAUA2ZiqiuAEABA/igAAAEBCArhO59sy6RtUgA2" +
  "B2si5w0AmgAAAJoAAAAAAAAAAAAAAAAAAAAIAEUAAIwWgUAAQAYl6X8AAAF/AAAByLJGoGRwFANmYqorgBgAQP6AAAABAQgK" +
  "4TufbMukbVJHRVQgL2luZGV4LnR4dCBIVFRQLzEuMQ0KSG9zdDogMTI3LjAuMC4xOjE4MDgwDQpVc2VyLUFnZW50OiBjdXJs" +
  "LzcuODguMQ0KQWNjZXB0OiAqLyoNCg0KADYHa0bnDQBCAAAAQgAAAAAAAAAAAAAAAAAAAAgARQAANOZnQABABlZafwAAAX8A" +
  "AAFGoMiyZmKqK2RwFFuAEABA/igAAAEBCArLpG1S4TufbAA2B2teBA4A+wAAAPsAAAAAAAAAAAAAAAAAAAAIAEUAAO3maEAA" +
  "QAZVoH8AAAF/AAABRqDIsmZiqitkcBRbgBgAQP7hAAABAQgKy6RtWuE7n2xIVFRQLzEuMCAyMDAgT0sNClNlcnZlcjogU2lt" +
  "cGxlSFRUUC8wLjYgUHl0aG9uLzMuMTEuNw0KRGF0ZTogV2VkLCAyNSBOb3YgMjAyNiAxOToyNDo0OCBHTVQNCkNvbnRlbnQt" +
  "dHlwZTogdGV4dC9wbGFpbg0KQ29udGVudC1MZW5ndGg6IDMNCkxhc3QtTW9kaWZpZWQ6IFdlZCwgMjUgTm92IDIwMjYgMTk6" +
  "MjQ6NDUgR01UDQoNCgA2B2uEBA4AQgAAAEIAAAAAAAAAAAAAAAAAAAAIAEUAADQWgkAAQAYmQH8AAAF/AAAByLJGoGRwFFtm" +
  "YqrkgBAAQP4oAAABAQgK4TufdMukbVoANgdrtwQOAEUAAABFAAAAAAAAAAAAAAAAAAAACABFAAA35mlAAEAGVlV/AAABfwAA" +
  "AUagyLJmYqrkZHAUW4AYAED+KwAAAQEICsukbVrhO590aGkKADYHa78EDgBCAAAAQgAAAAAAAAAAAAAAAAAAAAgARQAANBaD" +
  "QABABiY/fwAAAX8AAAHIskagZHAUW2ZiqueAEABA/igAAAEBCArhO590y6RtWgA2B2sIBQ4AQgAAAEIAAAAAAAAAAAAAAAAA" +
  "AAAIAEUAADTmakAAQAZWV38AAAF/AAABRqDIsmZiqudkcBRbgBEAQP4oAAABAQgKy6RtWuE7n3QANgdr5QUOAEIAAABCAAAA" +
  "AAAAAAAAAAAAAAAACABFAAA0FoRAAEAGJj5/AAABfwAAAciyRqBkcBRbZmKq6IARAED+KAAAAQEICuE7n3TLpG1aADYHawgG" +
  "DgBCAAAAQgAAAAAAAAAAAAAAAAAAAAgARQAANOZrQABABlZWfwAAAX8AAAFGoMiyZmKq6GRwFFyAEABA/igAAAEBCArLpG1a" +
  "4TufdAA2B2sOPg4AXgAAAF4AAAAAAAAAAAAAAAAAAACG3WADZiQAKAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAA" +
  "AAGsBkagLwOAGgAAAACgAv/EADAAAAIE/8QEAggK7IAo4gAAAAABAwMKADYHazI+DgBeAAAAXgAAAAAAAAAAAAAAAAAAAIbd" +
  "YAUt5AAoBkAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAUagrAa+5IRMLwOAG6AS/7gAMAAAAgT/xAQCCAr1q3/c" +
  "7IAo4gEDAwoANgdrRz4OAFYAAABWAAAAAAAAAAAAAAAAAAAAht1gA2YkACAGQAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAA" +
  "AAAAAAABrAZGoC8DgBu+5IRNgBAAQAAoAAABAQgK7IAo4vWrf9wANgdrZkAOAKoAAACqAAAAAAAAAAAAAAAAAAAAht1gA2Yk" +
  "AHQGQAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABrAZGoC8DgBu+5IRNgBgAQAB8AAABAQgK7IAo4vWrf9xHRVQg" +
  "L2luZGV4LnR4dCBIVFRQLzEuMQ0KSG9zdDogWzo6MV06MTgwODANClVzZXItQWdlbnQ6IGN1cmwvNy44OC4xDQpBY2NlcHQ6" +
  "ICovKg0KDQoANgdrdEAOAFYAAABWAAAAAAAAAAAAAAAAAAAAht1gBS3kACAGQAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAA" +
  "AAAAAAABRqCsBr7khE0vA4BvgBAAQAAoAAABAQgK9at/3OyAKOIANgdraEMOAA8BAAAPAQAAAAAAAAAAAAAAAAAAht1gBS3k" +
  "ANkGQAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABRqCsBr7khE0vA4BvgBgAQADhAAABAQgK9at/3eyAKOJIVFRQ" +
  "LzEuMCAyMDAgT0sNClNlcnZlcjogU2ltcGxlSFRUUC8wLjYgUHl0aG9uLzMuMTEuNw0KRGF0ZTogV2VkLCAyNSBOb3YgMjAy" +
  "NiAxOToyNDo0OCBHTVQNCkNvbnRlbnQtdHlwZTogdGV4dC9wbGFpbg0KQ29udGVudC1MZW5ndGg6IDMNCkxhc3QtTW9kaWZp" +
  "ZWQ6IFdlZCwgMjUgTm92IDIwMjYgMTk6MjQ6NDUgR01UDQoNCgA2B2t8Qw4AVgAAAFYAAAAAAAAAAAAAAAAAAACG3WADZiQA" +
  "IAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAGsBkagLwOAb77khQaAEABAACgAAAEBCArsgCjj9at/3QA2B2uk" +
  "Qw4AWQAAAFkAAAAAAAAAAAAAAAAAAACG3WAFLeQAIwZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAFGoKwGvuSF" +
  "Bi8DgG+AGABAACsAAAEBCAr1q3/d7IAo42hpCgA2B2urQw4AVgAAAFYAAAAAAAAAAAAAAAAAAACG3WADZiQAIAZAAAAAAAAA" +
  "AAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAGsBkagLwOAb77khQmAEABAACgAAAEBCArsgCjj9at/3QA2B2veQw4AVgAAAFYA" +
  "AAAAAAAAAAAAAAAAAACG3WADZiQAIAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAGsBkagLwOAb77khQmAEQBA" +
  "ACgAAAEBCArsgCjj9at/3QA2B2veQw4AVgAAAFYAAAAAAAAAAAAAAAAAAACG3WAFLeQAIAZAAAAAAAAAAAAAAAAAAAAAAQAA" +
  "AAAAAAAAAAAAAAAAAAFGoKwGvuSFCS8DgG+AEQBAACgAAAEBCAr1q3/d7IAo4wA2B2vpQw4AVgAAAFYAAAAAAAAAAAAAAAAA" +
  "AACG3WADZiQAIAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAGsBkagLwOAcL7khQqAEABAACgAAAEBCArsgCjj" +
  "9at/3QA2B2v2Qw4AVgAAAFYAAAAAAAAAAAAAAAAAAACG3WAFLeQAIAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAA" +
  "AAFGoKwGvuSFCi8DgHCAEABAACgAAAEBCAr1q3/d7IAo4wE2B2uQlQEAMwAAADMAAAAAAAAAAAAAAAAAAAAIAEUAACUa2kAA" +
  "QBEh7H8AAAF/AAAB0Q9GoQAR/iRoZWxsbyB1ZHABNgdrR5YBAEcAAABHAAAAAAAAAAAAAAAAAAAAht1gCUqaABERQAAAAAAA" +
  "AAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABi9VGoQARACRoZWxsbyB1ZHA=";

const SLL_PCAP =
  "1MOyoQIABAAAAAAAAAAAAAAABABxAAAAADYHa3/kDQBMAAAATAAAAAAAAwQABgAAAAAAAAAACABFAAA8Fn9AAEAGJjt/AAAB" +
  "fwAAAciyRqBkcBQCAAAAAKAC/9f+MAAAAgT/1wQCCArhO59sAAAAAAEDAwoANgdrmOQNAEwAAABMAAAAAAADBAAGAAAAAAAA" +
  "AAAIAEUAADwAAEAAQAY8un8AAAF/AAABRqDIsmZiqipkcBQDoBL/y/4wAAACBP/XBAIICsukbVLhO59sAQMDCgA2B2ut5A0A" +
  "RAAAAEQAAAAAAAMEAAYAAAAAAAAAAAgARQAANBaAQABABiZCfwAAAX8AAAHIskagZHAUA2ZiqiuAEABA/igAAAEBCArhO59s" +
  "y6RtUgA2B2sh5w0AnAAAAJwAAAAAAAMEAAYAAAAAAAAAAAgARQAAjBaBQABABiXpfwAAAX8AAAHIskagZHAUA2ZiqiuAGABA" +
  "/oAAAAEBCArhO59sy6RtUkdFVCAvaW5kZXgudHh0IEhUVFAvMS4xDQpIb3N0OiAxMjcuMC4wLjE6MTgwODANClVzZXItQWdl" +
  "bnQ6IGN1cmwvNy44OC4xDQpBY2NlcHQ6ICovKg0KDQoANgdrRucNAEQAAABEAAAAAAADBAAGAAAAAAAAAAAIAEUAADTmZ0AA" +
  "QAZWWn8AAAF/AAABRqDIsmZiqitkcBRbgBAAQP4oAAABAQgKy6RtUuE7n2wANgdrXQQOAP0AAAD9AAAAAAADBAAGAAAAAAAA" +
  "AAAIAEUAAO3maEAAQAZVoH8AAAF/AAABRqDIsmZiqitkcBRbgBgAQP7hAAABAQgKy6RtWuE7n2xIVFRQLzEuMCAyMDAgT0sN" +
  "ClNlcnZlcjogU2ltcGxlSFRUUC8wLjYgUHl0aG9uLzMuMTEuNw0KRGF0ZTogV2VkLCAyNSBOb3YgMjAyNiAxOToyNDo0OCBH" +
  "TVQNCkNvbnRlbnQtdHlwZTogdGV4dC9wbGFpbg0KQ29udGVudC1MZW5ndGg6IDMNCkxhc3QtTW9kaWZpZWQ6IFdlZCwgMjUg" +
  "Tm92IDIwMjYgMTk6MjQ6NDUgR01UDQoNCgA2B2uDBA4ARAAAAEQAAAAAAAMEAAYAAAAAAAAAAAgARQAANBaCQABABiZAfwAA" +
  "AX8AAAHIskagZHAUW2ZiquSAEABA/igAAAEBCArhO590y6RtWgA2B2u3BA4ARwAAAEcAAAAAAAMEAAYAAAAAAAAAAAgARQAA" +
  "N+ZpQABABlZVfwAAAX8AAAFGoMiyZmKq5GRwFFuAGABA/isAAAEBCArLpG1a4TufdGhpCgA2B2u/BA4ARAAAAEQAAAAAAAME" +
  "AAYAAAAAAAAAAAgARQAANBaDQABABiY/fwAAAX8AAAHIskagZHAUW2ZiqueAEABA/igAAAEBCArhO590y6RtWgA2B2sIBQ4A" +
  "RAAAAEQAAAAAAAMEAAYAAAAAAAAAAAgARQAANOZqQABABlZXfwAAAX8AAAFGoMiyZmKq52RwFFuAEQBA/igAAAEBCArLpG1a" +
  "4TufdAA2B2vkBQ4ARAAAAEQAAAAAAAMEAAYAAAAAAAAAAAgARQAANBaEQABABiY+fwAAAX8AAAHIskagZHAUW2ZiquiAEQBA" +
  "/igAAAEBCArhO590y6RtWgA2B2sHBg4ARAAAAEQAAAAAAAMEAAYAAAAAAAAAAAgARQAANOZrQABABlZWfwAAAX8AAAFGoMiy" +
  "ZmKq6GRwFFyAEABA/igAAAEBCArLpG1a4TufdAA2B2sNPg4AYAAAAGAAAAAAAAMEAAYAAAAAAAAAAIbdYANmJAAoBkAAAAAA" +
  "AAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAawGRqAvA4AaAAAAAKAC/8QAMAAAAgT/xAQCCArsgCjiAAAAAAEDAwoANgdr" +
  "Mj4OAGAAAABgAAAAAAADBAAGAAAAAAAAAACG3WAFLeQAKAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAFGoKwG" +
  "vuSETC8DgBugEv+4ADAAAAIE/8QEAggK9at/3OyAKOIBAwMKADYHa0c+DgBYAAAAWAAAAAAAAwQABgAAAAAAAAAAht1gA2Yk" +
  "ACAGQAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABrAZGoC8DgBu+5IRNgBAAQAAoAAABAQgK7IAo4vWrf9wANgdr" +
  "ZUAOAKwAAACsAAAAAAADBAAGAAAAAAAAAACG3WADZiQAdAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAGsBkag" +
  "LwOAG77khE2AGABAAHwAAAEBCArsgCji9at/3EdFVCAvaW5kZXgudHh0IEhUVFAvMS4xDQpIb3N0OiBbOjoxXToxODA4MA0K" +
  "VXNlci1BZ2VudDogY3VybC83Ljg4LjENCkFjY2VwdDogKi8qDQoNCgA2B2tzQA4AWAAAAFgAAAAAAAMEAAYAAAAAAAAAAIbd" +
  "YAUt5AAgBkAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAUagrAa+5IRNLwOAb4AQAEAAKAAAAQEICvWrf9zsgCji" +
  "ADYHa2ZDDgARAQAAEQEAAAAAAwQABgAAAAAAAAAAht1gBS3kANkGQAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAB" +
  "RqCsBr7khE0vA4BvgBgAQADhAAABAQgK9at/3eyAKOJIVFRQLzEuMCAyMDAgT0sNClNlcnZlcjogU2ltcGxlSFRUUC8wLjYg" +
  "UHl0aG9uLzMuMTEuNw0KRGF0ZTogV2VkLCAyNSBOb3YgMjAyNiAxOToyNDo0OCBHTVQNCkNvbnRlbnQtdHlwZTogdGV4dC9w" +
  "bGFpbg0KQ29udGVudC1MZW5ndGg6IDMNCkxhc3QtTW9kaWZpZWQ6IFdlZCwgMjUgTm92IDIwMjYgMTk6MjQ6NDUgR01UDQoN" +
  "CgA2B2t8Qw4AWAAAAFgAAAAAAAMEAAYAAAAAAAAAAIbdYANmJAAgBkAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAA" +
  "AawGRqAvA4BvvuSFBoAQAEAAKAAAAQEICuyAKOP1q3/dADYHa6RDDgBbAAAAWwAAAAAAAwQABgAAAAAAAAAAht1gBS3kACMG" +
  "QAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABRqCsBr7khQYvA4BvgBgAQAArAAABAQgK9at/3eyAKONoaQoANgdr" +
  "q0MOAFgAAABYAAAAAAADBAAGAAAAAAAAAACG3WADZiQAIAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAGsBkag" +
  "LwOAb77khQmAEABAACgAAAEBCArsgCjj9at/3QA2B2vdQw4AWAAAAFgAAAAAAAMEAAYAAAAAAAAAAIbdYANmJAAgBkAAAAAA" +
  "AAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAawGRqAvA4BvvuSFCYARAEAAKAAAAQEICuyAKOP1q3/dADYHa91DDgBYAAAA" +
  "WAAAAAAAAwQABgAAAAAAAAAAht1gBS3kACAGQAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABRqCsBr7khQkvA4Bv" +
  "gBEAQAAoAAABAQgK9at/3eyAKOMANgdr6EMOAFgAAABYAAAAAAADBAAGAAAAAAAAAACG3WADZiQAIAZAAAAAAAAAAAAAAAAA" +
  "AAAAAQAAAAAAAAAAAAAAAAAAAAGsBkagLwOAcL7khQqAEABAACgAAAEBCArsgCjj9at/3QA2B2v2Qw4AWAAAAFgAAAAAAAME" +
  "AAYAAAAAAAAAAIbdYAUt5AAgBkAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAUagrAa+5IUKLwOAcIAQAEAAKAAA" +
  "AQEICvWrf93sgCjjATYHa4+VAQA1AAAANQAAAAAAAwQABgAAAAAAAAAACABFAAAlGtpAAEARIex/AAABfwAAAdEPRqEAEf4k" +
  "aGVsbG8gdWRwATYHa0aWAQBJAAAASQAAAAAAAwQABgAAAAAAAAAAht1gCUqaABERQAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAA" +
  "AAAAAAAAAAABi9VGoQARACRoZWxsbyB1ZHA=";

const SLL2_PCAP =
  "1MOyoQIABAAAAAAAAAAAAAAABAAUAQAAADYHa3/kDQBQAAAAUAAAAAgAAAAAAAABAwQABgAAAAAAAAAARQAAPBZ/QABABiY7" +
  "fwAAAX8AAAHIskagZHAUAgAAAACgAv/X/jAAAAIE/9cEAggK4TufbAAAAAABAwMKADYHa5jkDQBQAAAAUAAAAAgAAAAAAAAB" +
  "AwQABgAAAAAAAAAARQAAPAAAQABABjy6fwAAAX8AAAFGoMiyZmKqKmRwFAOgEv/L/jAAAAIE/9cEAggKy6RtUuE7n2wBAwMK" +
  "ADYHa6zkDQBIAAAASAAAAAgAAAAAAAABAwQABgAAAAAAAAAARQAANBaAQABABiZCfwAAAX8AAAHIskagZHAUA2ZiqiuAEABA" +
  "/igAAAEBCArhO59sy6RtUgA2B2sh5w0AoAAAAKAAAAAIAAAAAAAAAQMEAAYAAAAAAAAAAEUAAIwWgUAAQAYl6X8AAAF/AAAB" +
  "yLJGoGRwFANmYqorgBgAQP6AAAABAQgK4TufbMukbVJHRVQgL2luZGV4LnR4dCBIVFRQLzEuMQ0KSG9zdDogMTI3LjAuMC4x" +
  "OjE4MDgwDQpVc2VyLUFnZW50OiBjdXJsLzcuODguMQ0KQWNjZXB0OiAqLyoNCg0KADYHa0XnDQBIAAAASAAAAAgAAAAAAAAB" +
  "AwQABgAAAAAAAAAARQAANOZnQABABlZafwAAAX8AAAFGoMiyZmKqK2RwFFuAEABA/igAAAEBCArLpG1S4TufbAA2B2tdBA4A" +
  "AQEAAAEBAAAIAAAAAAAAAQMEAAYAAAAAAAAAAEUAAO3maEAAQAZVoH8AAAF/AAABRqDIsmZiqitkcBRbgBgAQP7hAAABAQgK" +
  "y6RtWuE7n2xIVFRQLzEuMCAyMDAgT0sNClNlcnZlcjogU2ltcGxlSFRUUC8wLjYgUHl0aG9uLzMuMTEuNw0KRGF0ZTogV2Vk" +
  "LCAyNSBOb3YgMjAyNiAxOToyNDo0OCBHTVQNCkNvbnRlbnQtdHlwZTogdGV4dC9wbGFpbg0KQ29udGVudC1MZW5ndGg6IDMN" +
  "Ckxhc3QtTW9kaWZpZWQ6IFdlZCwgMjUgTm92IDIwMjYgMTk6MjQ6NDUgR01UDQoNCgA2B2uDBA4ASAAAAEgAAAAIAAAAAAAA" +
  "AQMEAAYAAAAAAAAAAEUAADQWgkAAQAYmQH8AAAF/AAAByLJGoGRwFFtmYqrkgBAAQP4oAAABAQgK4TufdMukbVoANgdrtgQO" +
  "AEsAAABLAAAACAAAAAAAAAEDBAAGAAAAAAAAAABFAAA35mlAAEAGVlV/AAABfwAAAUagyLJmYqrkZHAUW4AYAED+KwAAAQEI" +
  "CsukbVrhO590aGkKADYHa78EDgBIAAAASAAAAAgAAAAAAAABAwQABgAAAAAAAAAARQAANBaDQABABiY/fwAAAX8AAAHIskag" +
  "ZHAUW2ZiqueAEABA/igAAAEBCArhO590y6RtWgA2B2sHBQ4ASAAAAEgAAAAIAAAAAAAAAQMEAAYAAAAAAAAAAEUAADTmakAA" +
  "QAZWV38AAAF/AAABRqDIsmZiqudkcBRbgBEAQP4oAAABAQgKy6RtWuE7n3QANgdr4wUOAEgAAABIAAAACAAAAAAAAAEDBAAG" +
  "AAAAAAAAAABFAAA0FoRAAEAGJj5/AAABfwAAAciyRqBkcBRbZmKq6IARAED+KAAAAQEICuE7n3TLpG1aADYHawcGDgBIAAAA" +
  "SAAAAAgAAAAAAAABAwQABgAAAAAAAAAARQAANOZrQABABlZWfwAAAX8AAAFGoMiyZmKq6GRwFFyAEABA/igAAAEBCArLpG1a" +
  "4TufdAA2B2sMPg4AZAAAAGQAAACG3QAAAAAAAQMEAAYAAAAAAAAAAGADZiQAKAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAA" +
  "AAAAAAAAAAGsBkagLwOAGgAAAACgAv/EADAAAAIE/8QEAggK7IAo4gAAAAABAwMKADYHazI+DgBkAAAAZAAAAIbdAAAAAAAB" +
  "AwQABgAAAAAAAAAAYAUt5AAoBkAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAUagrAa+5IRMLwOAG6AS/7gAMAAA" +
  "AgT/xAQCCAr1q3/c7IAo4gEDAwoANgdrRz4OAFwAAABcAAAAht0AAAAAAAEDBAAGAAAAAAAAAABgA2YkACAGQAAAAAAAAAAA" +
  "AAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABrAZGoC8DgBu+5IRNgBAAQAAoAAABAQgK7IAo4vWrf9wANgdrZUAOALAAAACwAAAA" +
  "ht0AAAAAAAEDBAAGAAAAAAAAAABgA2YkAHQGQAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABrAZGoC8DgBu+5IRN" +
  "gBgAQAB8AAABAQgK7IAo4vWrf9xHRVQgL2luZGV4LnR4dCBIVFRQLzEuMQ0KSG9zdDogWzo6MV06MTgwODANClVzZXItQWdl" +
  "bnQ6IGN1cmwvNy44OC4xDQpBY2NlcHQ6ICovKg0KDQoANgdrc0AOAFwAAABcAAAAht0AAAAAAAEDBAAGAAAAAAAAAABgBS3k" +
  "ACAGQAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABRqCsBr7khE0vA4BvgBAAQAAoAAABAQgK9at/3OyAKOIANgdr" +
  "ZkMOABUBAAAVAQAAht0AAAAAAAEDBAAGAAAAAAAAAABgBS3kANkGQAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAB" +
  "RqCsBr7khE0vA4BvgBgAQADhAAABAQgK9at/3eyAKOJIVFRQLzEuMCAyMDAgT0sNClNlcnZlcjogU2ltcGxlSFRUUC8wLjYg" +
  "UHl0aG9uLzMuMTEuNw0KRGF0ZTogV2VkLCAyNSBOb3YgMjAyNiAxOToyNDo0OCBHTVQNCkNvbnRlbnQtdHlwZTogdGV4dC9w" +
  "bGFpbg0KQ29udGVudC1MZW5ndGg6IDMNCkxhc3QtTW9kaWZpZWQ6IFdlZCwgMjUgTm92IDIwMjYgMTk6MjQ6NDUgR01UDQoN" +
  "CgA2B2t7Qw4AXAAAAFwAAACG3QAAAAAAAQMEAAYAAAAAAAAAAGADZiQAIAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAA" +
  "AAAAAAGsBkagLwOAb77khQaAEABAACgAAAEBCArsgCjj9at/3QA2B2ujQw4AXwAAAF8AAACG3QAAAAAAAQMEAAYAAAAAAAAA" +
  "AGAFLeQAIwZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAFGoKwGvuSFBi8DgG+AGABAACsAAAEBCAr1q3/d7IAo" +
  "42hpCgA2B2uqQw4AXAAAAFwAAACG3QAAAAAAAQMEAAYAAAAAAAAAAGADZiQAIAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAA" +
  "AAAAAAAAAAGsBkagLwOAb77khQmAEABAACgAAAEBCArsgCjj9at/3QA2B2vcQw4AXAAAAFwAAACG3QAAAAAAAQMEAAYAAAAA" +
  "AAAAAGADZiQAIAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAGsBkagLwOAb77khQmAEQBAACgAAAEBCArsgCjj" +
  "9at/3QA2B2vdQw4AXAAAAFwAAACG3QAAAAAAAQMEAAYAAAAAAAAAAGAFLeQAIAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAA" +
  "AAAAAAAAAAFGoKwGvuSFCS8DgG+AEQBAACgAAAEBCAr1q3/d7IAo4wA2B2voQw4AXAAAAFwAAACG3QAAAAAAAQMEAAYAAAAA" +
  "AAAAAGADZiQAIAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAGsBkagLwOAcL7khQqAEABAACgAAAEBCArsgCjj" +
  "9at/3QA2B2v1Qw4AXAAAAFwAAACG3QAAAAAAAQMEAAYAAAAAAAAAAGAFLeQAIAZAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAA" +
  "AAAAAAAAAAFGoKwGvuSFCi8DgHCAEABAACgAAAEBCAr1q3/d7IAo4wE2B2uOlQEAOQAAADkAAAAIAAAAAAAAAQMEAAYAAAAA" +
  "AAAAAEUAACUa2kAAQBEh7H8AAAF/AAAB0Q9GoQAR/iRoZWxsbyB1ZHABNgdrRpYBAE0AAABNAAAAht0AAAAAAAEDBAAGAAAA" +
  "AAAAAABgCUqaABERQAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABi9VGoQARACRoZWxsbyB1ZHA=";

/** [ipVersion, sport, dport, seq, ack, flags, window, payload length, correct L4 checksum] */
const EXPECTED: number[][] = [
  [4, 51378, 18080, 1685066754, 0, 2, 65495, 0, 0x4791],
  [4, 18080, 51378, 1717742122, 1685066755, 18, 65483, 0, 0xfe07],
  [4, 51378, 18080, 1685066755, 1717742123, 16, 64, 0, 0x2687],
  [4, 51378, 18080, 1685066755, 1717742123, 24, 64, 88, 0xf19a],
  [4, 18080, 51378, 1717742123, 1685066843, 16, 64, 0, 0x262f],
  [4, 18080, 51378, 1717742123, 1685066843, 24, 64, 185, 0x4bc6],
  [4, 51378, 18080, 1685066843, 1717742308, 16, 64, 0, 0x2566],
  [4, 18080, 51378, 1717742308, 1685066843, 24, 64, 3, 0xb2f1],
  [4, 51378, 18080, 1685066843, 1717742311, 16, 64, 0, 0x2563],
  [4, 18080, 51378, 1717742311, 1685066843, 17, 64, 0, 0x2562],
  [4, 51378, 18080, 1685066843, 1717742312, 17, 64, 0, 0x2561],
  [4, 18080, 51378, 1717742312, 1685066844, 16, 64, 0, 0x2561],
  [6, 44038, 18080, 788758554, 0, 2, 65476, 0, 0x96fe],
  [6, 18080, 44038, 3202647116, 788758555, 18, 65464, 0, 0xde3f],
  [6, 44038, 18080, 788758555, 3202647117, 16, 64, 0, 0x0699],
  [6, 44038, 18080, 788758555, 3202647117, 24, 64, 84, 0x22b8],
  [6, 18080, 44038, 3202647117, 788758639, 16, 64, 0, 0x0645],
  [6, 18080, 44038, 3202647117, 788758639, 24, 64, 185, 0x2be3],
  [6, 44038, 18080, 788758639, 3202647302, 16, 64, 0, 0x058a],
  [6, 18080, 44038, 3202647302, 788758639, 24, 64, 3, 0x9315],
  [6, 44038, 18080, 788758639, 3202647305, 16, 64, 0, 0x0587],
  [6, 44038, 18080, 788758639, 3202647305, 17, 64, 0, 0x0586],
  [6, 18080, 44038, 3202647305, 788758639, 17, 64, 0, 0x0586],
  [6, 44038, 18080, 788758640, 3202647306, 16, 64, 0, 0x0585],
  [6, 18080, 44038, 3202647306, 788758640, 16, 64, 0, 0x0585],
  [4, 53519, 18081, 0, 0, 0, 0, 9, 0xc0c1],
  [6, 35797, 18081, 0, 0, 0, 0, 9, 0x03fd],
];
