import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import {
  type FlowEndpoints,
  type StreamEvents,
  TcpReassembler,
  type TcpSegment,
} from "./tcp_reassembly.ts";

const FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;
const T0 = 1_700_000_000;

/** Records events as text and each direction's bytes, "[gap N]" marking a jump. */
class Recorder implements StreamEvents {
  log: string[] = [];
  private streams = new Map<string, { text: string; next: number }>();

  open(flow: number, sec: number, nsec: number, c: FlowEndpoints): void {
    const ip = (a: Uint8Array) => c.ipVersion === 4 ? a.join(".") : `[${a.length}B]`;
    this.log.push(
      `open ${flow} t=${sec - T0}.${nsec} ${ip(c.clientIp)}:${c.clientPort}>${
        ip(c.serverIp)
      }:${c.serverPort}`,
    );
  }

  data(flow: number, dir: 0 | 1, offset: number, p: Uint8Array, _sec: number, _nsec: number) {
    const k = `${flow}/${dir}`;
    const s = this.streams.get(k) ?? { text: "", next: 0 };
    assert(offset >= s.next, `flow ${k} went back from ${s.next} to ${offset}`);
    assert(p.length > 0, `flow ${k} empty data at ${offset}`);
    if (offset > s.next) s.text += `[gap ${offset - s.next}]`;
    s.text += String.fromCharCode(...p);
    s.next = offset + p.length;
    this.streams.set(k, s);
    this.log.push(`data ${flow} ${dir} ${offset} ${p.length}`);
  }

  close(flow: number, dir: 0 | 1, kind: 1 | 2 | 3, finalOffset: number, sec: number) {
    const name = ["", "FIN", "RST", "timeout"][kind];
    this.log.push(`close ${flow} ${dir} ${name} ${finalOffset} t=${sec - T0}`);
  }

  text(flow: number, dir: 0 | 1): string {
    return this.streams.get(`${flow}/${dir}`)?.text ?? "";
  }

  /** The log without data lines. */
  get opensAndCloses(): string[] {
    return this.log.filter((l) => !l.startsWith("data"));
  }
}

function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

/** Builds the segments of one connection; `t` is seconds after T0. */
function conn(cport = 40000, sport = 443, cip = [10, 0, 0, 1], sip = [10, 0, 0, 2]) {
  const ipVersion: 4 | 6 = cip.length === 4 ? 4 : 6;
  const make = (fromClient: boolean) =>
  (
    seq: number,
    flags: number,
    data = "",
    t = 0,
    ack = 0,
  ): TcpSegment => ({
    sec: T0 + Math.floor(t),
    nsec: Math.round((t - Math.floor(t)) * 1e9),
    ipVersion,
    src: Uint8Array.from(fromClient ? cip : sip),
    dst: Uint8Array.from(fromClient ? sip : cip),
    sport: fromClient ? cport : sport,
    dport: fromClient ? sport : cport,
    seq: seq >>> 0,
    ack: ack >>> 0,
    flags,
    window: 65535,
    payload: bytes(data),
  });
  return { c: make(true), s: make(false) };
}

function run(segs: TcpSegment[], opts = {}, end = 100): { r: Recorder; tr: TcpReassembler } {
  const r = new Recorder();
  const tr = new TcpReassembler(r, opts);
  for (const s of segs) tr.segment(s);
  if (end >= 0) tr.finish(T0 + end, 0);
  return { r, tr };
}

const CI = 1000, SI = 5000; // ISNs

function handshake(k = conn(), ci = CI, si = SI, t = 0): TcpSegment[] {
  return [
    k.c(ci, SYN, "", t),
    k.s(si, SYN | ACK, "", t + 0.001, ci + 1),
    k.c(ci + 1, ACK, "", t + 0.002, si + 1),
  ];
}

Deno.test("TcpReassembler delivers a handshake, data both ways and FINs as open, data, close", () => {
  const k = conn();
  const { r, tr } = run([
    ...handshake(k),
    k.c(CI + 1, PSH | ACK, "GET / HTTP/1.1\r\n\r\n", 1, SI + 1),
    k.s(SI + 1, ACK, "HTTP/1.1 200 OK\r\n", 2, CI + 19),
    k.s(SI + 18, PSH | ACK, "\r\nhi", 2, CI + 19),
    k.c(CI + 19, FIN | ACK, "", 3, SI + 22),
    k.s(SI + 22, FIN | ACK, "", 4, CI + 20),
    k.c(CI + 20, ACK, "", 4, SI + 23),
  ]);
  assertEquals(r.log, [
    "open 1 t=0.0 10.0.0.1:40000>10.0.0.2:443",
    "data 1 0 0 18",
    "data 1 1 0 17",
    "data 1 1 17 4",
    "close 1 0 FIN 18 t=3",
    "close 1 1 FIN 21 t=4",
  ]);
  assertEquals(r.text(1, 0), "GET / HTTP/1.1\r\n\r\n");
  assertEquals(r.text(1, 1), "HTTP/1.1 200 OK\r\n\r\nhi");
  assertEquals(tr.stats.flows, 1);
  assertEquals(tr.stats.segments, 9);
  assertEquals(tr.stats.deliveredBytes, 39);
  assertEquals(tr.stats.gaps, 0);
  assertEquals(tr.stats.midstreamFlows, 0);
});

Deno.test("TcpReassembler unwraps sequence numbers across 2^32 (ISN 0xfffffff0)", () => {
  const k = conn();
  const ci = 0xfffffff0, si = 0xffffffff;
  const { r } = run([
    ...handshake(k, ci, si),
    k.c(ci + 1, ACK, "0123456789", 1, si + 1), // 0xfffffff1 .. 0xfffffffa
    k.c(ci + 21, ACK, "klmnopqrst", 1), // wrapped: 0x00000005, held
    k.c(ci + 11, ACK, "abcdefghij", 1), // 0xfffffffb .. 0x00000004
    k.s(si + 1, ACK, "server", 1, ci + 31), // server base wraps to 0
    k.c(ci + 31, FIN | ACK, "", 2),
    k.s(si + 7, FIN | ACK, "", 2),
  ]);
  assertEquals(r.text(1, 0), "0123456789abcdefghijklmnopqrst");
  assertEquals(r.text(1, 1), "server");
  assertEquals(r.opensAndCloses.slice(1), ["close 1 0 FIN 30 t=2", "close 1 1 FIN 6 t=2"]);
});

Deno.test("TcpReassembler gives offsets past 2^32 for a stream longer than 4 GiB", () => {
  const k = conn();
  const chunk = new Uint8Array(1 << 20);
  let delivered = 0, lastOffset = -1, finalOffset = -1;
  const tr = new TcpReassembler({
    open() {},
    data(_f, _d, offset, p) {
      assertEquals(offset, delivered);
      delivered += p.length;
      lastOffset = offset;
    },
    close(_f, dir, _kind, fo) {
      if (dir === 0) finalOffset = fo;
    },
  });
  for (const s of handshake(k, 0x12345678)) tr.segment(s);
  const n = 4100;
  const seg = k.c(0, ACK, "", 1);
  seg.payload = chunk;
  for (let i = 0; i < n; i++) {
    seg.seq = (0x12345679 + i * (1 << 20)) >>> 0;
    tr.segment(seg);
  }
  tr.segment(k.c(0x12345679 + n * (1 << 20), FIN | ACK, "", 2));
  assertEquals(delivered, n * (1 << 20));
  assertEquals(lastOffset, (n - 1) * (1 << 20));
  assert(lastOffset > 2 ** 32);
  assertEquals(finalOffset, n * (1 << 20));
});

Deno.test("TcpReassembler delivers bytes once across a retransmission", () => {
  const k = conn();
  const { r, tr } = run([
    ...handshake(k),
    k.c(CI + 1, ACK, "hello ", 1),
    k.c(CI + 1, ACK, "hello ", 1.2), // full retransmit
    k.c(CI + 1, ACK, "hello world", 1.4), // retransmit carrying new bytes
    k.c(CI + 11, ACK, "d", 1.5), // a 1-byte probe below next
    k.c(CI + 11, ACK, "d", 2), // keepalive with its garbage byte
    k.c(CI + 11, ACK, "", 2.1), // keepalive without a byte
    k.c(CI, SYN, "", 2.2), // SYN retransmit: no new flow
    k.c(CI + 12, FIN | ACK, "", 3),
    k.c(CI + 12, FIN | ACK, "", 3.5), // FIN retransmit: closed once
  ]);
  assertEquals(r.text(1, 0), "hello world");
  assertEquals(r.log, [
    "open 1 t=0.0 10.0.0.1:40000>10.0.0.2:443",
    "data 1 0 0 6",
    "data 1 0 6 5",
    "close 1 0 FIN 11 t=3",
    "close 1 1 timeout 0 t=100",
  ]);
  assertEquals(tr.stats.retransmittedBytes, 6 + 6 + 1 + 1);
  assertEquals(tr.stats.flows, 1);
  assertEquals(tr.stats.overlapBytes, 0);
});

Deno.test("TcpReassembler keeps the first bytes of an overlap and counts those that differ", () => {
  const k = conn();
  // The stream is "abcdefghijkl"; capital letters are conflicting retransmitted bytes.
  const { r, tr } = run([
    ...handshake(k),
    k.c(CI + 1, ACK, "abcd", 1), // [0,4) delivered
    k.c(CI + 9, ACK, "ijkl", 1), // [8,12) held
    k.c(CI + 7, ACK, "ghIj", 1), // [6,8) held; [8,10) overlaps held "ij", 'I' differs
    k.c(CI + 3, ACK, "cdefGh", 1), // [2,4) old; [4,6) fills; [6,8) overlaps held "gh"
  ]);
  assertEquals(r.text(1, 0), "abcdefghijkl");
  assertEquals(r.log.filter((l) => l.startsWith("data")), [
    "data 1 0 0 4",
    "data 1 0 4 2",
    "data 1 0 6 2",
    "data 1 0 8 4",
  ]);
  assertEquals(tr.stats.overlapBytes, 2);
  assertEquals(tr.stats.retransmittedBytes, 6);
  assertEquals(tr.stats.outOfOrderSegments, 2);
  assertEquals(tr.stats.bufferedBytes, 0);
});

Deno.test("TcpReassembler delivers the same stream for all 6 orders of 3 segments", () => {
  const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  for (const order of orders) {
    const k = conn();
    const parts = [
      k.c(CI + 1, ACK, "first-", 1),
      k.c(CI + 7, ACK, "second-", 1.1),
      k.c(CI + 14, FIN | ACK, "third", 1.2),
    ];
    const { r, tr } = run([...handshake(k), ...order.map((i) => parts[i])]);
    assertEquals(r.text(1, 0), "first-second-third", `order ${order}`);
    assertEquals(r.opensAndCloses, [
      "open 1 t=0.0 10.0.0.1:40000>10.0.0.2:443",
      "close 1 0 FIN 18 t=1",
      "close 1 1 timeout 0 t=100",
    ], `order ${order}`);
    assertEquals(tr.stats.gaps, 0);
    assertEquals(tr.stats.bufferedBytes, 0);
  }
});

Deno.test("TcpReassembler starts a midstream flow at the first seen sequence numbers", () => {
  const k = conn(50000, 443);
  const { r, tr } = run([
    k.s(777, ACK, "", 0.5, 999), // a bare ACK of an unknown flow starts nothing
    k.s(777, ACK, "response", 1, 999), // the server speaks first; port 50000 is the client
    k.c(999, ACK, "request", 2, 785),
    k.c(1006, ACK | FIN, "!", 3, 785),
  ]);
  assertEquals(r.log, [
    "open 1 t=1.0 10.0.0.1:50000>10.0.0.2:443",
    "data 1 1 0 8",
    "data 1 0 0 7",
    "data 1 0 7 1",
    "close 1 0 FIN 8 t=3",
    "close 1 1 timeout 8 t=100",
  ]);
  assertEquals(tr.stats.midstreamFlows, 1);
  assertEquals(tr.stats.orphanSegments, 1);

  // Equal ports: the first sender is the client.
  const p = conn(5000, 5000, [10, 0, 0, 9], [10, 0, 0, 3]);
  const { r: r2 } = run([p.c(1, ACK, "x", 1), p.s(1, ACK, "y", 1)]);
  assertEquals(r2.log[0], "open 1 t=1.0 10.0.0.9:5000>10.0.0.3:5000");
  assertEquals([r2.text(1, 0), r2.text(1, 1)], ["x", "y"]);
});

Deno.test("TcpReassembler closes on RST at the RST's offset and ignores the flow after", () => {
  const k = conn();
  const { r, tr } = run([
    ...handshake(k),
    k.c(CI + 1, ACK, "abc", 1),
    k.s(SI + 1, ACK, "hello", 1),
    k.s(SI + 6, RST | ACK, "", 2),
    k.c(CI + 4, ACK, "late", 3),
  ]);
  assertEquals(r.opensAndCloses.slice(1), ["close 1 1 RST 5 t=2"]);
  assertEquals(r.text(1, 0), "abc");
  assertEquals(r.text(1, 1), "hello");
  assertEquals(tr.stats.resets, 1);
  assertEquals(tr.stats.lateSegments, 1);

  // Bytes before the RST that never came are a gap; held bytes are delivered.
  const m = conn();
  const { r: r2, tr: tr2 } = run([
    ...handshake(m),
    m.c(CI + 1, ACK, "ab", 1),
    m.c(CI + 5, ACK, "ef", 1), // [4,6) held
    m.c(CI + 9, RST, "", 2), // RST at offset 8
  ]);
  assertEquals(r2.text(1, 0), "ab[gap 2]ef");
  assertEquals(r2.opensAndCloses.slice(1), ["close 1 0 RST 8 t=2"]);
  assertEquals(tr2.stats.gaps, 2);
  assertEquals(tr2.stats.gapBytes, 4);

  // An RST from a side that already sent its FIN closes the other side.
  const n = conn();
  const { r: r3 } = run([
    ...handshake(n),
    n.c(CI + 1, FIN | ACK, "bye", 1),
    n.s(SI + 1, ACK, "more", 2),
    n.c(CI + 5, RST, "", 3),
  ]);
  assertEquals(r3.opensAndCloses.slice(1), ["close 1 0 FIN 3 t=1", "close 1 1 RST 4 t=3"]);
});

Deno.test("TcpReassembler starts a new flow for a new SYN on a reused 4-tuple", () => {
  const k = conn();
  const { r, tr } = run([
    ...handshake(k),
    k.c(CI + 1, FIN | ACK, "one", 1),
    k.s(SI + 1, FIN | ACK, "uno", 1.1),
    k.c(CI + 5, ACK, "", 1.2, SI + 5),
    k.c(CI + 5, ACK | FIN, "", 1.3), // late FIN retransmit: nothing
    ...handshake(k, 90000, 70000, 2),
    k.c(90001, ACK, "two", 3),
    k.c(90000, SYN, "", 3.5), // SYN retransmit of the new flow: nothing
    // A SYN with yet another ISN while flow 2 is open: flow 2 times out, flow 3 opens.
    k.c(123456, SYN, "", 4),
    k.s(654321, SYN | ACK, "", 4, 123457),
    k.c(123457, ACK, "three", 5, 654322),
  ]);
  assertEquals(r.opensAndCloses, [
    "open 1 t=0.0 10.0.0.1:40000>10.0.0.2:443",
    "close 1 0 FIN 3 t=1",
    "close 1 1 FIN 3 t=1",
    "open 2 t=2.0 10.0.0.1:40000>10.0.0.2:443",
    "close 2 0 timeout 3 t=4",
    "close 2 1 timeout 0 t=4",
    "open 3 t=4.0 10.0.0.1:40000>10.0.0.2:443",
    "close 3 0 timeout 5 t=100",
    "close 3 1 timeout 0 t=100",
  ]);
  assertEquals([r.text(1, 0), r.text(1, 1), r.text(2, 0), r.text(3, 0)], [
    "one",
    "uno",
    "two",
    "three",
  ]);
  assertEquals(tr.stats.flows, 3);
  assertEquals(tr.stats.portReuses, 2);
});

Deno.test("TcpReassembler skips a hole when the per-direction cap is hit and goes on", () => {
  const k = conn();
  const { r, tr } = run([
    ...handshake(k),
    k.c(CI + 1, ACK, "01234", 1), // [0,5)
    k.c(CI + 11, ACK, "abcdefgh", 1), // [10,18) held: 8 bytes
    k.c(CI + 21, ACK, "ABCDE", 2), // [20,25) would make 13 > 10: skip [5,10)
    k.c(CI + 19, ACK, "xy", 3), // [18,20) fills the next hole
    k.c(CI + 6, ACK, "56789", 4), // the skipped bytes, too late
    k.c(CI + 26, FIN | ACK, "!", 5),
  ], { maxFlowBufferBytes: 10 });
  assertEquals(r.text(1, 0), "01234[gap 5]abcdefghxyABCDE!");
  assertEquals(r.log.filter((l) => l.startsWith("data")), [
    "data 1 0 0 5",
    "data 1 0 10 8",
    "data 1 0 18 2",
    "data 1 0 20 5",
    "data 1 0 25 1",
  ]);
  assertEquals(r.opensAndCloses[1], "close 1 0 FIN 26 t=5");
  assertEquals(tr.stats.capHits, 1);
  assertEquals(tr.stats.gaps, 1);
  assertEquals(tr.stats.gapBytes, 5);
  assertEquals(tr.stats.droppedBufferBytes, 5);
  assertEquals(tr.stats.retransmittedBytes, 5);

  // A segment larger than the cap is delivered after a gap.
  const m = conn();
  const { r: r2 } = run([
    ...handshake(m),
    m.c(CI + 4, ACK, "too big", 1),
    m.c(CI + 1, ACK, "abcdefghij", 2),
  ], { maxFlowBufferBytes: 4 });
  assertEquals(r2.text(1, 0), "[gap 3]too big");
});

Deno.test("TcpReassembler flushes the direction held longest when the total cap is hit", () => {
  const a = conn(40001), b = conn(40002);
  const { r, tr } = run([
    ...handshake(a),
    ...handshake(b),
    a.c(CI + 3, ACK, "cdefgh", 1), // flow 1 holds 6
    b.c(CI + 2, ACK, "bcd", 2), // flow 2 holds 3
    b.c(CI + 6, ACK, "fgh", 3), // 12 > 10: flow 1 is flushed (oldest)
    b.c(CI + 1, ACK, "a", 4),
    a.c(CI + 1, ACK, "ab", 4), // too late for flow 1
  ], { maxTotalBufferBytes: 10 });
  assertEquals(r.text(1, 0), "[gap 2]cdefgh");
  assertEquals(r.text(2, 0), "abcd[gap 1]fgh");
  assertEquals(tr.stats.capHits, 1);
  assertEquals(tr.stats.droppedBufferBytes, 2);
  assertEquals(tr.stats.gapBytes, 3); // flow 2's hole [4,5) is skipped at finish()
});

Deno.test("TcpReassembler finish() delivers held data past a hole and closes on a pending FIN", () => {
  const k = conn();
  const { r, tr } = run(
    [
      ...handshake(k),
      k.c(CI + 1, ACK, "abc", 1),
      k.c(CI + 7, ACK, "ghi", 1), // [6,9) held
      k.c(CI + 12, FIN | ACK, "lm", 2), // [11,13) held, FIN at 13
      k.s(SI + 1, ACK, "srv", 2),
      k.s(SI + 8, ACK, "late", 2), // [7,11) held
    ],
    {},
    50,
  );
  assertEquals(r.text(1, 0), "abc[gap 3]ghi[gap 2]lm");
  assertEquals(r.text(1, 1), "srv[gap 4]late");
  assertEquals(r.opensAndCloses.slice(1), [
    "close 1 0 FIN 13 t=50",
    "close 1 1 timeout 11 t=50",
  ]);
  assertEquals(tr.stats.gaps, 3);
  assertEquals(tr.stats.gapBytes, 9);
  assertEquals(tr.stats.bufferedBytes, 0);
  assertEquals(tr.activeFlows, 0);
});

Deno.test("TcpReassembler closes idle flows as timeout by capture time", () => {
  const a = conn(40001), b = conn(40002);
  const { r, tr } = run(
    [
      ...handshake(a),
      a.c(CI + 1, ACK, "aaa", 1),
      ...handshake(b, CI, SI, 2),
      b.c(CI + 1, ACK, "b", 5),
      b.c(CI + 2, ACK, "b", 9),
      b.c(CI + 3, ACK, "b", 14), // the sweep at 14 finds flow 1 idle for 13 s > 10
      a.c(CI + 4, ACK, "a", 23), // flow 1's tuple again: a midstream flow 3
      b.c(CI + 4, ACK, "b", 24.5), // flow 2 idle for 10.5 s: timed out on arrival, flow 4
    ],
    { idleTimeoutSec: 10 },
    60,
  );
  assertEquals(r.opensAndCloses, [
    "open 1 t=0.0 10.0.0.1:40001>10.0.0.2:443",
    "open 2 t=2.0 10.0.0.1:40002>10.0.0.2:443",
    "close 1 0 timeout 3 t=14",
    "close 1 1 timeout 0 t=14",
    "open 3 t=23.0 10.0.0.1:40001>10.0.0.2:443",
    "close 2 0 timeout 3 t=24",
    "close 2 1 timeout 0 t=24",
    "open 4 t=24.500000000 10.0.0.1:40002>10.0.0.2:443",
    "close 3 0 timeout 1 t=60",
    "close 3 1 timeout 0 t=60",
    "close 4 0 timeout 1 t=60",
    "close 4 1 timeout 0 t=60",
  ]);
  assertEquals(tr.stats.timeouts, 2);
  assertEquals(tr.stats.midstreamFlows, 2);
});

Deno.test("TcpReassembler forgets a closed flow after the linger time", () => {
  const k = conn();
  const { tr } = run(
    [
      ...handshake(k),
      k.c(CI + 1, FIN | ACK, "", 1),
      k.s(SI + 1, FIN | ACK, "", 1),
    ],
    {},
    -1,
  );
  assertEquals(tr.activeFlows, 1);
  tr.segment(conn(1, 2).c(1, ACK, "x", 30));
  assertEquals(tr.activeFlows, 1);
  assertEquals(tr.stats.timeouts, 0);
});

Deno.test("TcpReassembler handles a SYN-ACK captured before its SYN", () => {
  const k = conn();
  const [syn, synAck, ack] = handshake(k);
  const { r, tr } = run([
    synAck,
    syn,
    ack,
    k.c(CI + 1, ACK, "ping", 1),
    k.s(SI + 1, ACK, "pong", 2),
  ]);
  assertEquals(r.log, [
    "open 1 t=0.1000000 10.0.0.1:40000>10.0.0.2:443",
    "data 1 0 0 4",
    "data 1 1 0 4",
    "close 1 0 timeout 4 t=100",
    "close 1 1 timeout 4 t=100",
  ]);
  assertEquals(tr.stats.flows, 1);
  assertEquals(tr.stats.badSegments, 0);
});

Deno.test("TcpReassembler takes the server's ISN from the client's ACK when the SYN-ACK is missing", () => {
  const k = conn();
  const [syn, , ack] = handshake(k);
  const { r } = run([
    syn,
    ack,
    k.s(SI + 4, ACK, "def", 1), // the server's first 3 bytes were not captured
  ]);
  assertEquals(r.text(1, 1), "[gap 3]def");
});

Deno.test("TcpReassembler drops bytes past a FIN and counts bad segments", () => {
  const k = conn();
  const syn = k.c(CI, SYN, "", 0);
  const { r, tr } = run([
    ...handshake(k),
    k.c(CI + 1, FIN | ACK, "ab", 1),
    k.c(CI + 3, ACK, "zz", 2),
    k.c(CI + 1, ACK, "abzz", 2),
    { ...syn, flags: SYN | FIN },
    { ...syn, src: new Uint8Array(16) },
  ]);
  assertEquals(r.text(1, 0), "ab");
  assertEquals(tr.stats.badSegments, 2);
  assertEquals(tr.stats.retransmittedBytes, 6);
});

Deno.test("TcpReassembler keys IPv6 flows by both endpoints", () => {
  const c6 = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const s6 = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
  const k = conn(40000, 443, c6, s6);
  const v4 = conn(40000, 443);
  const { r } = run([
    ...handshake(k),
    ...handshake(v4),
    k.c(CI + 1, ACK, "six", 1),
    k.s(SI + 1, ACK, "XIS", 1),
    v4.c(CI + 1, ACK, "four", 1),
  ]);
  assertEquals(r.log[0], "open 1 t=0.0 [16B]:40000>[16B]:443");
  assertEquals([r.text(1, 0), r.text(1, 1), r.text(2, 0)], ["six", "XIS", "four"]);
});

Deno.test("TcpReassembler keeps 20 interleaved, reordered flows apart", () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const perFlow: TcpSegment[][] = [];
  const want: [string, string][] = [];
  for (let f = 0; f < 20; f++) {
    const k = conn(41000 + f, f % 2 ? 443 : 80, [10, 0, 1, f], [10, 0, 2, f % 3]);
    const ci = (f * 0x0fedcba9) >>> 0, si = (0xfffffff0 + f * 3) >>> 0;
    const segs = handshake(k, ci, si, f * 0.01);
    let up = "", down = "", co = 0, so = 0;
    const body: TcpSegment[] = [];
    for (let i = 0; i < 8; i++) {
      const a = `f${f}c${i}:` + "x".repeat(rand(20));
      body.push(k.c(ci + 1 + co, ACK, a, 1 + i));
      up += a;
      co += a.length;
      const b = `f${f}s${i};` + "y".repeat(rand(30));
      body.push(k.s(si + 1 + so, ACK, b, 1 + i));
      down += b;
      so += b.length;
    }
    body.push(k.c(ci + 1 + co, FIN | ACK, "", 9), k.s(si + 1 + so, FIN | ACK, "", 9));
    for (let i = 0; i < body.length - 1; i++) {
      if (rand(4) === 0) [body[i], body[i + 1]] = [body[i + 1], body[i]];
    }
    body.push(body[rand(body.length)]); // one retransmission
    perFlow.push([...segs, ...body]);
    want.push([up, down]);
  }
  const mixed: TcpSegment[] = [];
  const pos = perFlow.map(() => 0);
  for (let left = perFlow.reduce((s, x) => s + x.length, 0); left > 0; left--) {
    let f = rand(20);
    while (pos[f] >= perFlow[f].length) f = (f + 1) % 20;
    mixed.push(perFlow[f][pos[f]++]);
  }
  const { r, tr } = run(mixed);
  assertEquals(tr.stats.flows, 20);
  assertEquals(tr.stats.gaps, 0);
  const ids = r.log.filter((l) => l.startsWith("open")).map((l) => l.split(" "));
  for (const o of ids) {
    const id = Number(o[1]);
    const f = Number(o[3].split(":")[0].split(".")[3]);
    assertEquals([r.text(id, 0), r.text(id, 1)], want[f], `flow ${f}`);
    const closes = r.opensAndCloses.filter((l) => l.startsWith(`close ${id} `));
    assertEquals(closes.map((l) => l.replace(/ t=.*/, "")).sort(), [
      `close ${id} 0 FIN ${want[f][0].length}`,
      `close ${id} 1 FIN ${want[f][1].length}`,
    ], `flow ${f} closes`);
  }
});

Deno.test("TcpReassembler rejects a negative option", () => {
  assertThrows(
    () => new TcpReassembler(new Recorder(), { idleTimeoutSec: -1 }),
    RangeError,
    "idleTimeoutSec -1",
  );
});
