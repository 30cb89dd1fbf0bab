import { assert, assertBytesEqual, assertEquals, assertThrows } from "../../tests/assert.ts";
import type { FlowMeta, OutPacket } from "../plugin.ts";
import { PacketBatch } from "./packet_batch.ts";
import { macForIp, newSynthFlow, type SynthFlow, TcpSynthesizer } from "./synth.ts";

const META: FlowMeta = {
  origin: "US-NYC1",
  flow: 7,
  user: "u@example.com",
  site: "example.com",
  serverName: "example.com",
  decrypted: false,
};

const V4C = Uint8Array.of(10, 0, 0, 1);
const V4S = Uint8Array.of(192, 0, 2, 80);
const V6C = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
const V6S = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34);

function flow4(flow: number | string = 7): SynthFlow {
  return newSynthFlow({
    ipVersion: 4,
    clientIp: V4C,
    serverIp: V4S,
    clientPort: 40000,
    serverPort: 443,
    origin: "US-NYC1",
    flow,
  });
}

function flow6(): SynthFlow {
  return newSynthFlow({
    ipVersion: 6,
    clientIp: V6C,
    serverIp: V6S,
    clientPort: 51515,
    serverPort: 8443,
    origin: "DE-FRA1",
    flow: "abc",
  });
}

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Independent RFC 1071 checksum: the folded sum over `parts`, 0 when the data carries a valid checksum. */
function onesSum(parts: Uint8Array[]): number {
  let s = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i += 2) s += (p[i] << 8) | (i + 1 < p.length ? p[i + 1] : 0);
  }
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

interface Decoded {
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  ipVersion: number;
  ipLen: number;
  ipId: number;
  ttl: number;
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  dataOffset: number;
  window: number;
  mssOption: number;
  payload: Uint8Array;
}

/** A small hand parser that also checks both checksums and the lengths. */
function decode(p: OutPacket): Decoded {
  const fr = p.data.subarray(p.offset, p.offset + p.length);
  assertEquals(p.linkType, 1);
  assertEquals(p.origLength, p.length);
  const et = (fr[12] << 8) | fr[13];
  let ip: number, l4: number, ipLen: number, src: Uint8Array, dst: Uint8Array, pseudo: Uint8Array;
  let ipId = -1, ttl: number;
  const ipVersion = fr[14] >> 4;
  if (et === 0x0800) {
    assertEquals(ipVersion, 4);
    ip = 14;
    assertEquals(fr[ip], 0x45);
    ipLen = (fr[ip + 2] << 8) | fr[ip + 3];
    assertEquals(ipLen, fr.length - 14, "IPv4 total length");
    ipId = (fr[ip + 4] << 8) | fr[ip + 5];
    assertEquals(fr[ip + 6], 0x40, "DF");
    ttl = fr[ip + 8];
    assertEquals(fr[ip + 9], 6);
    assertEquals(onesSum([fr.subarray(ip, ip + 20)]), 0xffff, "IPv4 header checksum");
    src = fr.slice(ip + 12, ip + 16);
    dst = fr.slice(ip + 16, ip + 20);
    l4 = ip + 20;
    const tl = ipLen - 20;
    pseudo = Uint8Array.of(...src, ...dst, 0, 6, tl >> 8, tl & 0xff);
  } else {
    assertEquals(et, 0x86dd);
    assertEquals(ipVersion, 6);
    ip = 14;
    assertEquals(fr[ip + 1] & 0x0f, 0, "flow label");
    assertEquals(fr[ip + 2] | fr[ip + 3], 0, "flow label");
    const pl = (fr[ip + 4] << 8) | fr[ip + 5];
    assertEquals(pl, fr.length - 54, "IPv6 payload length");
    ipLen = pl + 40;
    assertEquals(fr[ip + 6], 6);
    ttl = fr[ip + 7];
    src = fr.slice(ip + 8, ip + 24);
    dst = fr.slice(ip + 24, ip + 40);
    l4 = ip + 40;
    pseudo = Uint8Array.of(...src, ...dst, 0, 0, pl >> 8, pl & 0xff, 0, 0, 0, 6);
  }
  const t = fr.subarray(l4);
  assertEquals(onesSum([pseudo, t]), 0xffff, "TCP checksum");
  const dataOffset = t[12] >> 4;
  let mssOption = 0;
  if (dataOffset === 6) {
    assertEquals([t[20], t[21]], [2, 4]);
    mssOption = (t[22] << 8) | t[23];
  } else assertEquals(dataOffset, 5);
  assertEquals((t[18] << 8) | t[19], 0, "urgent");
  return {
    dstMac: fr.slice(0, 6),
    srcMac: fr.slice(6, 12),
    ipVersion,
    ipLen,
    ipId,
    ttl,
    src,
    dst,
    sport: (t[0] << 8) | t[1],
    dport: (t[2] << 8) | t[3],
    seq: ((t[4] << 24) | (t[5] << 16) | (t[6] << 8) | t[7]) >>> 0,
    ack: ((t[8] << 24) | (t[9] << 16) | (t[10] << 8) | t[11]) >>> 0,
    flags: t[13],
    dataOffset,
    window: (t[14] << 8) | t[15],
    mssOption,
    payload: t.slice(dataOffset * 4),
  };
}

function pcapBytes(packets: readonly OutPacket[]): Uint8Array {
  let n = 24;
  for (const p of packets) n += 16 + p.length;
  const out = new Uint8Array(n);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b23c4d, true); // nanosecond pcap
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 262144, true);
  dv.setUint32(20, 1, true);
  let o = 24;
  for (const p of packets) {
    dv.setUint32(o, p.tsSec, true);
    dv.setUint32(o + 4, p.tsNsec, true);
    dv.setUint32(o + 8, p.length, true);
    dv.setUint32(o + 12, p.origLength, true);
    out.set(p.data.subarray(p.offset, p.offset + p.length), o + 16);
    o += 16 + p.length;
  }
  return out;
}

async function tshark(file: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("tshark", {
    args: [
      "-n",
      "-r",
      file,
      "-o",
      "tcp.check_checksum:TRUE",
      "-o",
      "ip.check_checksum:TRUE",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`tshark ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

async function writePcap(packets: readonly OutPacket[]): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".pcap" });
  await Deno.writeFile(file, pcapBytes(packets));
  return file;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** `follow,tcp,raw,0`: the bytes of node 0 and node 1, each concatenated. */
function parseFollow(text: string): [string, string] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("Node 1:"));
  assert(start > 0, `no follow output: ${text}`);
  const out: [string, string] = ["", ""];
  for (const l of lines.slice(start + 1)) {
    if (l.startsWith("====")) break;
    if (l.startsWith("\t")) out[1] += l.trim();
    else out[0] += l.trim();
  }
  return out;
}

interface Checked {
  fields: string[][];
  follow: [string, string];
}

/** Runs the tshark oracles: checksums Good, nothing malformed or worse than a warning. */
async function tsharkCheck(packets: readonly OutPacket[], expectFollow = true): Promise<Checked> {
  const file = await writePcap(packets);
  try {
    const text = await tshark(file, [
      "-T",
      "fields",
      "-e",
      "tcp.seq_raw",
      "-e",
      "tcp.ack_raw",
      "-e",
      "tcp.flags",
      "-e",
      "tcp.len",
      "-e",
      "tcp.checksum.status",
      "-e",
      "ip.checksum.status",
      "-e",
      "ip.len",
      "-e",
      "ipv6.plen",
    ]);
    const fields = text.trimEnd().split("\n").map((l) => l.split("\t"));
    assertEquals(fields.length, packets.length, "tshark packet count");
    for (const f of fields) {
      assertEquals(f[4], "1", `TCP checksum status (1 = good): ${f.join(" ")}`);
      if (f[6] !== "") assertEquals(f[5], "1", `IP checksum status (1 = good): ${f.join(" ")}`);
    }
    const bad = await tshark(file, ["-Y", "_ws.malformed || _ws.expert.severity >= error"]);
    assertEquals(bad.trim(), "", "malformed or expert errors");
    const follow: [string, string] = expectFollow
      ? parseFollow(await tshark(file, ["-q", "-z", "follow,tcp,raw,0"]))
      : ["", ""];
    return { fields, follow };
  } finally {
    await Deno.remove(file);
  }
}

const TWO32 = 4294967296;

Deno.test("mss is mtu minus overhead and headers; too small throws", () => {
  assertEquals(new TcpSynthesizer({ mtu: 1500, overhead: 0 }).mss(4), 1460);
  assertEquals(new TcpSynthesizer({ mtu: 1500, overhead: 0 }).mss(6), 1440);
  assertEquals(new TcpSynthesizer({ mtu: 1500, overhead: 50 }).mss(4), 1410);
  assertEquals(new TcpSynthesizer({}).mss(4), 1460);
  const small = new TcpSynthesizer({ mtu: 154, overhead: 50 });
  assertEquals(small.mss(4), 64);
  const tiny = new TcpSynthesizer({ mtu: 153, overhead: 50 });
  assertThrows(() => tiny.mss(4), RangeError, "MSS 63");
  assertThrows(() => small.mss(6), RangeError, "IPv6");
  assertThrows(() => new TcpSynthesizer({ mtu: 1500.5, overhead: 0 }), RangeError, "1500.5");
  assertThrows(() => new TcpSynthesizer({ mtu: 1500, overhead: -1 }), RangeError, "-1");
});

Deno.test("newSynthFlow is deterministic; MACs are locally administered and follow the IP", () => {
  const a = flow4();
  const b = flow4();
  assertEquals(a, b);
  const c = flow4(8);
  assert(a.isn[0] !== c.isn[0] && a.isn[1] !== c.isn[1], "ISN depends on the flow id");
  assert(a.isn[0] !== a.isn[1], "ISN depends on the direction");
  assert(flow4("7").isn[0] !== a.isn[0], 'flow 7 and flow "7" differ');
  assertBytesEqual(c.clientMac, a.clientMac);
  assertBytesEqual(c.serverMac, a.serverMac);
  assertBytesEqual(a.clientMac, macForIp(V4C));
  assertEquals(a.clientMac.length, 6);
  assertEquals(a.clientMac[0], 0x02);
  assertEquals(a.serverMac[0], 0x02);
  assertNotSame(a.clientMac, a.serverMac);
  for (const x of a.isn) assert(Number.isInteger(x) && x >= 0 && x < TWO32, `u32 ISN ${x}`);
  // Plain data: survives a structured clone unchanged.
  assertEquals(structuredClone(a), a);
  assertThrows(
    () =>
      newSynthFlow({
        ipVersion: 4,
        clientIp: V6C,
        serverIp: V4S,
        clientPort: 1,
        serverPort: 2,
        origin: "o",
        flow: 1,
      }),
    RangeError,
    "clientIp has 16 bytes",
  );
  assertThrows(
    () =>
      newSynthFlow({
        ipVersion: 4,
        clientIp: V4C,
        serverIp: V4S,
        clientPort: 70000,
        serverPort: 2,
        origin: "o",
        flow: 1,
      }),
    RangeError,
    "clientPort 70000",
  );
});

function assertNotSame(a: Uint8Array, b: Uint8Array): void {
  assert(hex(a) !== hex(b), `expected different bytes, both ${hex(a)}`);
}

Deno.test("IPv4 handshake, data, FIN both ways: headers by hand and tshark agree", async () => {
  const syn = new TcpSynthesizer({ mtu: 1500, overhead: 50 });
  const mss = syn.mss(4);
  const b = new PacketBatch(1 << 20);
  const f = flow4();
  const c2s = pattern(3 * mss + 17, 1); // odd length, multiple segments
  const s2c = pattern(100_001, 2); // more than a window: intermediate ACKs
  syn.handshake(b, f, META, 100, 5);
  syn.data(b, f, META, 0, 0, c2s, 101, 0);
  syn.data(b, f, META, 1, 0, s2c, 102, 0);
  syn.data(b, f, META, 0, c2s.length, Uint8Array.of(1, 2, 3), 103, 0);
  syn.fin(b, f, META, 0, c2s.length + 3, 104, 0);
  syn.fin(b, f, META, 1, s2c.length, 104, 1);

  const d = b.packets.map(decode);
  const [ci, si] = f.isn;
  // Handshake.
  assertEquals([d[0].flags, d[0].seq, d[0].ack, d[0].mssOption], [0x02, ci, 0, mss]);
  assertEquals([d[1].flags, d[1].seq, d[1].ack, d[1].mssOption], [0x12, si, (ci + 1) % TWO32, mss]);
  assertEquals([d[2].flags, d[2].seq, d[2].ack, d[2].dataOffset], [
    0x10,
    (ci + 1) % TWO32,
    (si + 1) % TWO32,
    5,
  ]);
  assertBytesEqual(d[0].srcMac, f.clientMac);
  assertBytesEqual(d[0].dstMac, f.serverMac);
  assertBytesEqual(d[1].srcMac, f.serverMac);
  assertBytesEqual(d[1].src, V4S);
  assertEquals([d[0].sport, d[0].dport, d[1].sport, d[1].dport], [40000, 443, 443, 40000]);
  for (let i = 0; i < d.length; i++) {
    assertEquals(d[i].window, 65535);
    assertEquals(d[i].ttl, 64);
    assertEquals(d[i].ipId, (d[0].ipId + i) & 0xffff, "ipId increments per packet");
    assert(d[i].ipLen <= 1500 - 50, `IP packet ${i} of ${d[i].ipLen} bytes exceeds mtu - overhead`);
    assert(d[i].payload.length <= mss);
  }
  // Data from the client: 4 segments (PSH on the last), then the server's ACK.
  for (let k = 0; k < 4; k++) {
    const p = d[3 + k];
    assertEquals(p.seq, (ci + 1 + k * mss) % TWO32);
    assertEquals(p.ack, (si + 1) % TWO32);
    assertEquals(p.flags, k === 3 ? 0x18 : 0x10);
  }
  assertEquals([d[7].flags, d[7].seq, d[7].ack, d[7].payload.length], [
    0x10,
    (si + 1) % TWO32,
    (ci + 1 + c2s.length) % TWO32,
    0,
  ]);
  // Stream contents and the window: unacknowledged bytes never exceed 65535.
  const streams = [[], []] as number[][];
  const inflight = [0, 0];
  for (const p of d) {
    const dir = hex(p.src) === hex(V4C) ? 0 : 1;
    if (p.payload.length) {
      streams[dir].push(...p.payload);
      inflight[dir] += p.payload.length;
      assert(inflight[dir] <= 65535, `in flight ${inflight[dir]} exceeds the window`);
    } else if (p.flags === 0x10) inflight[1 - dir] = 0;
  }
  assertBytesEqual(Uint8Array.from(streams[0]), new Uint8Array([...c2s, 1, 2, 3]));
  assertBytesEqual(Uint8Array.from(streams[1]), s2c);
  // FINs and their ACKs.
  const n = d.length;
  const cEnd = c2s.length + 3;
  assertEquals([d[n - 4].flags, d[n - 4].seq, d[n - 4].ack], [
    0x11,
    (ci + 1 + cEnd) % TWO32,
    (si + 1 + s2c.length) % TWO32,
  ]);
  assertEquals([d[n - 3].flags, d[n - 3].ack], [0x10, (ci + 2 + cEnd) % TWO32]);
  assertEquals([d[n - 2].flags, d[n - 2].seq, d[n - 2].ack], [
    0x11,
    (si + 1 + s2c.length) % TWO32,
    (ci + 2 + cEnd) % TWO32,
  ]);
  assertEquals([d[n - 1].flags, d[n - 1].seq, d[n - 1].ack], [
    0x10,
    (ci + 2 + cEnd) % TWO32,
    (si + 2 + s2c.length) % TWO32,
  ]);
  assertEquals(f.next, [cEnd, s2c.length]);
  assertEquals(f.acked, [cEnd, s2c.length]);
  assertEquals(f.finSent, [true, true]);
  // Timestamps are the event's.
  assertEquals([b.packets[0].tsSec, b.packets[0].tsNsec, b.packets[n - 1].tsNsec], [100, 5, 1]);
  assert(b.packets.every((p) => p.meta === META));

  const { fields, follow } = await tsharkCheck(b.packets);
  assertEquals(fields[0].slice(0, 4), [String(ci), "0", "0x0002", "0"]);
  assertEquals(follow[0], hex(c2s) + "010203");
  assertEquals(follow[1], hex(s2c));
});

Deno.test("IPv6 with VXLAN overhead: segments fit, tshark follows both directions", async () => {
  const syn = new TcpSynthesizer({ mtu: 1400, overhead: 50 });
  const mss = syn.mss(6);
  assertEquals(mss, 1400 - 50 - 40 - 20);
  const b = new PacketBatch(1 << 20);
  const f = flow6();
  const req = pattern(777, 3);
  const resp = pattern(5 * mss + 1, 4);
  syn.handshake(b, f, META, 1, 0);
  syn.data(b, f, META, 0, 0, req, 2, 0);
  syn.data(b, f, META, 1, 0, resp, 3, 0);
  syn.fin(b, f, META, 1, resp.length, 4, 0);
  syn.fin(b, f, META, 0, req.length, 4, 0);
  const d = b.packets.map(decode);
  for (const p of d) {
    assertEquals(p.ipVersion, 6);
    assertEquals(p.ttl, 64);
    assert(p.ipLen <= 1400 - 50, `IPv6 packet of ${p.ipLen} bytes exceeds mtu - overhead`);
  }
  assertEquals(d[0].mssOption, mss);
  assertBytesEqual(d[0].src, V6C);
  assertBytesEqual(d[0].dst, V6S);
  const { follow } = await tsharkCheck(b.packets);
  assertEquals(follow[0], hex(req));
  assertEquals(follow[1], hex(resp));
});

Deno.test("a gap is a sequence jump; no bytes invented", async () => {
  const syn = new TcpSynthesizer({ mtu: 1500, overhead: 0 });
  const b = new PacketBatch(1 << 20);
  const f = flow4();
  syn.handshake(b, f, META, 1, 0);
  syn.data(b, f, META, 0, 0, pattern(100, 5), 2, 0);
  const before = b.count;
  syn.data(b, f, META, 0, 5000, pattern(200, 6), 3, 0);
  const d = b.packets.map(decode);
  assertEquals(b.count - before, 2);
  assertEquals(d[before].seq, (f.isn[0] + 1 + 5000) % TWO32);
  assertEquals(d[before].payload.length, 200);
  assertEquals(d[before + 1].ack, (f.isn[0] + 1 + 5200) % TWO32);
  assertEquals(f.next[0], 5200);
  // An empty record past the end only moves the offset.
  syn.data(b, f, META, 0, 6000, new Uint8Array(0), 3, 0);
  assertEquals(b.count, before + 2);
  syn.data(b, f, META, 0, 6000, Uint8Array.of(9), 3, 0);
  // One byte leaves less than two full segments unacknowledged: no ACK yet (delayed ACK).
  assertEquals(b.count, before + 3);
  assertEquals(decode(b.packets[b.count - 1]).seq, (f.isn[0] + 1 + 6000) % TWO32);
  const { fields } = await tsharkCheck(b.packets, false);
  assertEquals(fields[before][0], String((f.isn[0] + 1 + 5000) % TWO32));
  assertThrows(
    () => syn.data(b, f, META, 0, 10, Uint8Array.of(1), 4, 0),
    RangeError,
    "offset 10 is below the next offset 6001",
  );
});

Deno.test("sequence numbers wrap at 2^32, also for offsets beyond 2^32", async () => {
  const syn = new TcpSynthesizer({ mtu: 1500, overhead: 0 });
  const b = new PacketBatch(1 << 20);
  const f = flow4();
  f.isn = [TWO32 - 1000, TWO32 - 1];
  const c2s = pattern(4000, 7);
  const s2c = pattern(3000, 8);
  syn.handshake(b, f, META, 1, 0);
  assertEquals(decode(b.packets[1]).ack, TWO32 - 999);
  assertEquals(decode(b.packets[2]).ack, 0);
  syn.data(b, f, META, 0, 0, c2s, 2, 0);
  syn.data(b, f, META, 1, 0, s2c, 3, 0);
  const d = b.packets.map(decode);
  assertEquals(d[3].seq, TWO32 - 999);
  assertEquals(d[4].seq, (TWO32 - 999 + 1460) % TWO32);
  assertEquals([d[6].flags, d[6].ack], [0x10, (TWO32 - 999 + 4000) % TWO32]);
  assertEquals(d[d.length - 1].ack, 3000);
  const { follow } = await tsharkCheck(b.packets);
  assertEquals(follow[0], hex(c2s));
  assertEquals(follow[1], hex(s2c));

  // A flow past 4 GiB: the offset is a double, the sequence its exact residue.
  const g = flow4(99);
  const big = 3 * TWO32 + 12345;
  const b2 = new PacketBatch(1 << 16);
  syn.data(b2, g, META, 1, big, pattern(10, 9), 1, 0);
  assertEquals(decode(b2.packets[0]).seq, (g.isn[1] + 1 + 12345) % TWO32);
  assertEquals(decode(b2.packets[1]).ack, (g.isn[1] + 1 + 12355) % TWO32);
  const huge = 2 ** 52 + 7;
  syn.fin(b2, g, META, 1, huge, 1, 0);
  assertEquals(
    decode(b2.packets[2]).seq,
    Number((BigInt(g.isn[1]) + 1n + BigInt(huge)) % (1n << 32n)),
  );
});

Deno.test("RST|ACK carries the sender's position and the peer's ack", async () => {
  const syn = new TcpSynthesizer({ mtu: 1500, overhead: 0 });
  const b = new PacketBatch(1 << 16);
  const f = flow4();
  syn.handshake(b, f, META, 1, 0);
  syn.data(b, f, META, 0, 0, pattern(50, 10), 2, 0);
  syn.rst(b, f, META, 1, 0, 3, 0);
  const r = decode(b.packets[b.count - 1]);
  assertEquals([r.flags, r.seq, r.ack], [0x14, (f.isn[1] + 1) % TWO32, (f.isn[0] + 51) % TWO32]);
  syn.fin(b, f, META, 0, 50, 4, 0);
  syn.rst(b, f, META, 0, 50, 4, 0);
  const r2 = decode(b.packets[b.count - 1]);
  assertEquals(
    [r2.flags, r2.seq],
    [0x14, (f.isn[0] + 52) % TWO32],
    "RST after FIN is past the FIN",
  );
  await tsharkCheck(b.packets, false);
});

Deno.test("same inputs give identical bytes; bytesNeeded and packetsNeeded are upper bounds", () => {
  const run = (overhead: number): [Uint8Array, number[], number[]] => {
    const syn = new TcpSynthesizer({ mtu: 1500, overhead });
    const b = new PacketBatch(1 << 20);
    const f = flow4();
    const used: number[] = [];
    const counts: number[] = [];
    const step = (need: number, pkts: number, fn: () => void) => {
      const u = b.used, c = b.count;
      fn();
      assert(b.used - u <= need, `used ${b.used - u} > bytesNeeded ${need}`);
      assert(b.count - c <= pkts, `pushed ${b.count - c} > packetsNeeded ${pkts}`);
      used.push(b.used - u);
      counts.push(b.count - c);
    };
    step(syn.bytesNeeded(4, 0), syn.packetsNeeded(4, 0), () => syn.handshake(b, f, META, 1, 2));
    for (const len of [1, 1409, 1410, 1411, 1460, 1461, 65535, 200_000]) {
      const p = pattern(len, len);
      step(
        syn.bytesNeeded(4, len),
        syn.packetsNeeded(4, len),
        () => syn.data(b, f, META, 1, f.next[1], p, 3, 4),
      );
    }
    step(
      syn.bytesNeeded(4, 0),
      syn.packetsNeeded(4, 0),
      () => syn.fin(b, f, META, 1, f.next[1], 5, 6),
    );
    step(syn.bytesNeeded(4, 0), syn.packetsNeeded(4, 0), () => syn.rst(b, f, META, 0, 0, 5, 6));
    return [b.arena.slice(0, b.used), used, counts];
  };
  const [a] = run(50);
  const [a2] = run(50);
  assertBytesEqual(a, a2);
  run(0);
  const syn6 = new TcpSynthesizer({ mtu: 1500, overhead: 0 });
  const b = new PacketBatch(1 << 20);
  const f = flow6();
  syn6.handshake(b, f, META, 1, 0);
  const u = b.used;
  syn6.data(b, f, META, 0, 0, pattern(100_000, 1), 1, 0);
  assert(b.used - u <= syn6.bytesNeeded(6, 100_000));
  assert(syn6.bytesNeeded(6, 100_000) - (b.used - u) < 200, "the bound is tight");
});

Deno.test("data after FIN in the same direction throws", () => {
  const syn = new TcpSynthesizer({ mtu: 1500, overhead: 0 });
  const b = new PacketBatch(1 << 16);
  const f = flow4();
  syn.fin(b, f, META, 0, 10, 1, 0);
  syn.fin(b, f, META, 0, 10, 1, 0);
  assertEquals(b.count, 2, "a repeated FIN is ignored");
  assertThrows(
    () => syn.data(b, f, META, 0, 10, Uint8Array.of(1), 1, 0),
    RangeError,
    "already sent FIN at 10",
  );
  assertThrows(() => syn.fin(b, f, META, 1, -1, 1, 0), RangeError, "finalOffset -1");
});

Deno.test("the tshark oracle rejects a corrupted payload byte", async () => {
  const syn = new TcpSynthesizer({ mtu: 1500, overhead: 0 });
  const b = new PacketBatch(1 << 16);
  const f = flow4();
  syn.handshake(b, f, META, 1, 0);
  syn.data(b, f, META, 0, 0, pattern(300, 11), 2, 0);
  const p = b.packets[3];
  b.arena[p.offset + p.length - 1] ^= 0x40;
  let failed = false;
  try {
    await tsharkCheck(b.packets, false);
  } catch {
    failed = true;
  }
  assert(failed, "tshark accepted a bad TCP checksum");
});

Deno.test("the peer ACKs every second full segment, and small records ride on the reply", () => {
  const syn = new TcpSynthesizer({ mtu: 1500, overhead: 0 });
  const b = new PacketBatch(1 << 20);
  const f = flow4();
  syn.handshake(b, f, META, 1, 0);
  const mss = syn.mss(4);
  let at = b.count;
  syn.data(b, f, META, 0, 0, pattern(100, 1), 2, 0); // a request: no ACK of its own
  assertEquals(b.count - at, 1);
  at = b.count;
  syn.data(b, f, META, 1, 0, pattern(mss, 2), 3, 0); // the reply carries the request's ACK
  const reply = decode(b.packets[at]);
  assertEquals(reply.ack, (f.isn[0] + 1 + 100) % TWO32);
  assertEquals(b.count - at, 1, "one full segment: not yet acknowledged");
  at = b.count;
  syn.data(b, f, META, 1, mss, pattern(mss, 3), 4, 0); // the second full segment is
  assertEquals(b.count - at, 2);
  const ack = decode(b.packets[at + 1]);
  assertEquals(ack.ack, (f.isn[1] + 1 + 2 * mss) % TWO32);
  assertEquals(ack.payload.length, 0);
});
