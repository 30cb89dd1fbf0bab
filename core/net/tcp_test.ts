import { assert, assertBytesEqual, assertEquals, assertThrows } from "../../tests/assert.ts";
import { ByteReader, DecodeError } from "../bytes/cursor.ts";
import { fromHex } from "../bytes/hex.ts";
import { foldChecksum, pseudoHeaderSumV4, sumWords } from "./checksum.ts";
import {
  ACK,
  CWR,
  decodeTcp,
  ECE,
  encodeTcpHeader,
  fillTcpChecksum,
  FIN,
  newTcpHeader,
  NS,
  PSH,
  RST,
  SYN,
  tcpHeaderLength,
  URG,
} from "./tcp.ts";

/** A SYN captured with tcpdump -i lo (curl to 127.0.0.1:18080), MSS set to 1460 and window scale to 7. */
const SYN_SEG = fromHex(
  "c8b246a06470140200000000a002ffd7fe300000020405b40402080ae13b9f6c0000000001030307",
);
/** A real data segment from the same connection, its 88-byte payload cut to 4. */
const DATA_SEG = fromHex(
  "c8b246a0647014036662aa2b80180040fe8000000101080ae13b9f6ccba46d52" + "47455420",
);
const LO = fromHex("7f000001");

Deno.test("TCP flag constants have their RFC 9293 bit positions", () => {
  assertEquals([FIN, SYN, RST, PSH, ACK, URG, ECE, CWR, NS], [1, 2, 4, 8, 16, 32, 64, 128, 256]);
});

Deno.test("decodeTcp() reads a real SYN and its options", () => {
  const r = new ByteReader(SYN_SEG);
  const t = decodeTcp(r);
  assertEquals([t.srcPort, t.dstPort, t.seq, t.ack], [51378, 18080, 1685066754, 0]);
  assertEquals([t.headerLength, t.flags, t.window, t.checksum, t.urgent], [
    40,
    SYN,
    65495,
    0xfe30,
    0,
  ]);
  assertEquals([t.mss, t.windowScale, t.sackPermitted], [1460, 7, true]);
  assertEquals([t.hasTimestamps, t.tsVal, t.tsEcr], [true, 3778781036, 0]);
  assertEquals(t.sackBlocks, []);
  assertEquals([t.payloadOffset, t.payload.length, r.pos], [40, 0, 40]);
});

Deno.test("decodeTcp() reads a real data segment and its payload view", () => {
  const t = decodeTcp(new ByteReader(DATA_SEG));
  assertEquals([t.seq, t.ack, t.flags, t.window], [1685066755, 1717742123, PSH | ACK, 64]);
  assertEquals([t.mss, t.windowScale, t.sackPermitted, t.tsVal, t.tsEcr], [
    -1,
    -1,
    false,
    3778781036,
    3416550738,
  ]);
  assertBytesEqual(t.payload, new TextEncoder().encode("GET "));
  assertEquals(t.payload.buffer, DATA_SEG.buffer, "zero-copy");
});

Deno.test("decodeTcp() keeps u32 sequence numbers unsigned", () => {
  const s = DATA_SEG.slice();
  s.set([0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 1], 4);
  const t = decodeTcp(new ByteReader(s));
  assertEquals([t.seq, t.ack], [4294967295, 2147483649]);
});

Deno.test("decodeTcp() ends the payload at the given end (the IP payload end)", () => {
  const s = new Uint8Array(DATA_SEG.length + 6);
  s.set(DATA_SEG);
  const t = decodeTcp(new ByteReader(s), undefined, DATA_SEG.length);
  assertEquals(t.payload.length, 4);
});

Deno.test("decodeTcp() reads SACK blocks and skips unknown options", () => {
  const seg = withOptions(
    "0101" + "0512" + "0000000a0000001480000000fffffffe" + // SACK, 2 blocks
      "1e06aabbccdd" + "0000", // MPTCP (30), 6 bytes; EOL
  );
  const t = decodeTcp(new ByteReader(seg));
  assertEquals(t.headerLength, 48);
  assertEquals(t.sackBlocks, [10, 20, 0x80000000, 0xfffffffe]);
  assertEquals(t.payloadOffset, 48);
});

Deno.test("decodeTcp() sets NS from the data-offset byte", () => {
  const s = DATA_SEG.slice();
  s[12] |= 1;
  assertEquals(decodeTcp(new ByteReader(s)).flags, NS | PSH | ACK);
});

function withOptions(opts: string): Uint8Array {
  const o = fromHex(opts);
  const seg = new Uint8Array(20 + o.length);
  seg.set(fromHex("0001000200000001000000020010ffff00000000"));
  seg[12] = ((20 + o.length) / 4) << 4;
  seg.set(o, 20);
  return seg;
}

Deno.test("decodeTcp() rejects malformed option lengths", () => {
  const cases: [string, string][] = [
    ["02010000", "TCP option 2 length 1 < 2"],
    ["02000000", "TCP option 2 length 0 < 2"],
    ["020505b4", "TCP option 2 length 5 > 4 bytes of options left"],
    ["0203050000000000", "TCP MSS option length 3 != 4"],
    ["03020000", "TCP window scale option length 2 != 3"],
    ["04030000", "TCP SACK-permitted option length 3 != 2"],
    ["05020000", "TCP SACK option length 2 is not 2 + 8n"],
    ["050600000000" + "0000", "TCP SACK option length 6 is not 2 + 8n"],
    ["080600000000" + "0000", "TCP timestamps option length 6 != 10"],
    ["01010102", "TCP option 2 at offset 23 has no length byte"],
    ["fe0d" + "00".repeat(10), "TCP option 254 length 13 > 12 bytes of options left"],
  ];
  for (const [opts, msg] of cases) {
    assertThrows(() => decodeTcp(new ByteReader(withOptions(opts))), DecodeError, msg);
  }
});

Deno.test("decodeTcp() rejects a data offset below 20 or beyond the segment", () => {
  const s = DATA_SEG.slice();
  s[12] = 0x40;
  assertThrows(() => decodeTcp(new ByteReader(s)), DecodeError, "TCP data offset 16 < 20");
  s[12] = 0xf0;
  assertThrows(
    () => decodeTcp(new ByteReader(s)),
    DecodeError,
    "TCP data offset 60 > 36 bytes in segment",
  );
});

Deno.test("decodeTcp() rejects every truncation of a header with options", () => {
  for (let n = 0; n < 40; n++) {
    assertThrows(() => decodeTcp(new ByteReader(SYN_SEG, 0, n)), DecodeError);
    assertThrows(() => decodeTcp(new ByteReader(SYN_SEG), undefined, n), DecodeError);
  }
});

Deno.test("decodeTcp() fills the caller's object and clears old options", () => {
  const out = newTcpHeader();
  decodeTcp(new ByteReader(SYN_SEG), out);
  decodeTcp(new ByteReader(withOptions("0101050a0000000100000002")), out);
  assert(decodeTcp(new ByteReader(DATA_SEG), out) === out);
  assertEquals([out.mss, out.windowScale, out.sackPermitted, out.sackBlocks.length], [
    -1,
    -1,
    false,
    0,
  ]);
});

Deno.test("encodeTcpHeader() writes the fixed header and options that decode back", () => {
  const buf = new Uint8Array(80).fill(0xaa);
  const f = {
    srcPort: 51378,
    dstPort: 18080,
    seq: 0xfffffffe,
    ack: 7,
    flags: SYN | ACK | ECE,
    window: 65483,
    mss: 1460,
    windowScale: 10,
    sackPermitted: true,
    tsVal: 3416550738,
    tsEcr: 3778781036,
  };
  assertEquals(tcpHeaderLength(f), 40);
  const end = encodeTcpHeader(buf, 2, f);
  assertEquals(end, 42);
  assertEquals([buf[1], buf[42]], [0xaa, 0xaa]);
  const t = decodeTcp(new ByteReader(buf, 2, 42));
  assertEquals([t.srcPort, t.dstPort, t.seq, t.ack, t.flags, t.window], [
    51378,
    18080,
    0xfffffffe,
    7,
    SYN | ACK | ECE,
    65483,
  ]);
  assertEquals([t.mss, t.windowScale, t.sackPermitted, t.tsVal, t.tsEcr, t.checksum], [
    1460,
    10,
    true,
    3416550738,
    3778781036,
    0,
  ]);
});

Deno.test("encodeTcpHeader() pads options to 4 bytes and writes none when asked for none", () => {
  const buf = new Uint8Array(40);
  const base = { srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: ACK, window: 5 };
  assertEquals(encodeTcpHeader(buf, 0, base), 20);
  assertEquals(buf[12], 0x50);
  assertEquals(encodeTcpHeader(buf, 0, { ...base, mss: 536 }), 24);
  assertBytesEqual(buf.subarray(20, 24), fromHex("02040218"));
  assertEquals(encodeTcpHeader(buf, 0, { ...base, windowScale: 2 }), 24);
  assertBytesEqual(buf.subarray(20, 24), fromHex("03030201"));
  assertThrows(
    () => encodeTcpHeader(new Uint8Array(23), 0, { ...base, mss: 1 }),
    RangeError,
    "overflow",
  );
});

Deno.test("encodeTcpHeader() with fillTcpChecksum() reproduces a real segment", () => {
  // The data segment above, with its full 88-byte payload; tshark computes 0xf19a.
  const payload = new TextEncoder().encode(
    "GET /index.txt HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
  );
  const buf = new Uint8Array(32 + payload.length);
  const p = encodeTcpHeader(buf, 0, {
    srcPort: 51378,
    dstPort: 18080,
    seq: 1685066755,
    ack: 1717742123,
    flags: PSH | ACK,
    window: 64,
    tsVal: 3778781036,
    tsEcr: 3416550738,
  });
  assertEquals(p, 32);
  buf.set(payload, p);
  const ck = fillTcpChecksum(buf, 0, buf.length, pseudoHeaderSumV4(LO, LO, 6, buf.length));
  assertEquals(ck, 0xf19a);
  assertEquals((buf[16] << 8) | buf[17], 0xf19a);
  assertEquals(
    foldChecksum(sumWords(buf, 0, buf.length, pseudoHeaderSumV4(LO, LO, 6, buf.length))),
    0,
  );
  // Timestamps come before padding in ours, after two NOPs in Linux's: same length.
  assertEquals(decodeTcp(new ByteReader(buf)).tsEcr, 3416550738);
});
