/**
 * PcapngReader / PcapngWriter: editcap/mergecap conversions of tcpdump
 * captures checked against tshark, hand-built blocks in both byte orders
 * (sections, if_tsresol, if_tsoffset, SPB, PB, DSB, unknown blocks), hostile
 * framing, chunk-boundary fuzz, and the writer's output read back by tshark,
 * including TLS decrypted from a Decryption Secrets Block.
 *
 * ```
 *  block(type, body) = | type | 12+pad(body) | body, zero padded | 12+pad(body) |
 *  tls12_lo.pcap ──PcapReader──▶ PcapngWriter.secrets(tls12.keys) + append ──▶ tshark -Y http
 * ```
 */
import { assert, assertBytesEqual, assertEquals } from "../../tests/assert.ts";
import type { DecodeProblem } from "./ctap_record.ts";
import type { CapturedPacket } from "./capture.ts";
import { PcapReader } from "./pcap.ts";
import {
  PCAPNG_DSB,
  PCAPNG_EPB,
  PCAPNG_IDB,
  PCAPNG_PB,
  PCAPNG_SHB,
  PCAPNG_SPB,
  PcapngReader,
  PcapngWriter,
  SECRETS_TLS_KEYLOG,
  timestampToSecNsec,
} from "./pcapng.ts";
import { concatBytes } from "../bytes/concat.ts";
import { mulberry32 } from "../../tests/lib/random.ts";

const FIXTURES = new URL("../../tests/fixtures/formats/", import.meta.url);
const TSHARK = hasTool("tshark");
const NO_TSHARK = TSHARK ? false : (console.warn("tshark not found: tshark tests ignored"), true);

function hasTool(name: string): boolean {
  try {
    return new Deno.Command(name, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

interface Decoded {
  packets: CapturedPacket[];
  problems: DecodeProblem[];
  secrets: [number, Uint8Array][];
}

function decode(file: Uint8Array, sizes: () => number = () => file.length): Decoded {
  const out: Decoded = { packets: [], problems: [], secrets: [] };
  const r = new PcapngReader(
    (p) => out.packets.push(p),
    (p) => out.problems.push(p),
    (t, d) => out.secrets.push([t, d]),
  );
  for (let off = 0; off < file.length;) {
    const n = Math.max(1, Math.min(sizes(), file.length - off));
    r.push(file.slice(off, off + n));
    off += n;
  }
  r.finish();
  return out;
}

function epoch(sec: number, nsec: number): string {
  return `${sec}.${String(nsec).padStart(9, "0")}`;
}

function fields(packets: CapturedPacket[]): string[] {
  return packets.map((p) =>
    `${epoch(p.sec, p.nsec)}\t${p.origLen}\t${p.data.length}\t${p.interfaceId}`
  );
}

function tsharkFixture(name: string): string[] {
  return Deno.readTextFileSync(new URL(name + ".tshark.txt", FIXTURES)).trimEnd().split("\n");
}

function drain(w: { header(): Uint8Array; take(): Uint8Array | null }): Uint8Array {
  const parts = [w.header()];
  for (let b; (b = w.take()) !== null;) parts.push(b);
  return concatBytes(parts);
}

// ---- hand-built blocks ----------------------------------------------------

type Field = ["u8" | "u16" | "u32" | "i32", number] | Uint8Array;

/** Body bytes from fields in the given byte order; byte arrays are padded to 4. */
function body(le: boolean, ...fs: Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fs) {
    if (f instanceof Uint8Array) {
      const b = new Uint8Array((f.length + 3) & ~3);
      b.set(f);
      parts.push(b);
      continue;
    }
    const [kind, v] = f;
    const b = new Uint8Array(kind === "u8" ? 1 : kind === "u16" ? 2 : 4);
    const dv = new DataView(b.buffer);
    if (kind === "u8") dv.setUint8(0, v);
    else if (kind === "u16") dv.setUint16(0, v, le);
    else if (kind === "u32") dv.setUint32(0, v, le);
    else dv.setInt32(0, v, le);
    parts.push(b);
  }
  return concatBytes(parts);
}

function block(type: number, b: Uint8Array, le: boolean): Uint8Array {
  const n = 12 + ((b.length + 3) & ~3);
  const out = new Uint8Array(n);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, n, le);
  out.set(b, 8);
  dv.setUint32(n - 4, n, le);
  return out;
}

function shb(le: boolean): Uint8Array {
  return block(
    PCAPNG_SHB,
    body(le, ["u32", 0x1a2b3c4d], ["u16", 1], ["u16", 0], ["i32", -1], ["i32", -1]),
    le,
  );
}

function option(le: boolean, code: number, value: Uint8Array): Uint8Array {
  return body(le, ["u16", code], ["u16", value.length], value);
}

function idb(le: boolean, linkType: number, snaplen: number, ...options: Uint8Array[]): Uint8Array {
  const opts = options.length > 0 ? [...options, body(le, ["u32", 0])] : [];
  return block(PCAPNG_IDB, body(le, ["u16", linkType], ["u16", 0], ["u32", snaplen], ...opts), le);
}

function epb(
  le: boolean,
  iface: number,
  hi: number,
  lo: number,
  data: Uint8Array,
  orig = data.length,
) {
  return block(
    PCAPNG_EPB,
    body(le, ["u32", iface], ["u32", hi], ["u32", lo], ["u32", data.length], ["u32", orig], data),
    le,
  );
}

function u64(le: boolean, hi: number, lo: number): Uint8Array {
  return le ? body(le, ["u32", lo], ["u32", hi]) : body(le, ["u32", hi], ["u32", lo]);
}

const bytes = (n: number, start = 0) => new Uint8Array(n).map((_, i) => (start + i) & 0xff);

// ---- tests ------------------------------------------------------------------

for (
  const name of [
    "http_lo_us.pcapng",
    "http_lo_ns.pcapng",
    "merged_eth_sll2.pcapng",
    "tls12_dsb.pcapng",
  ]
) {
  Deno.test(`PcapngReader reads ${name} as tshark does`, () => {
    const file = Deno.readFileSync(new URL(name, FIXTURES));
    const { packets, problems } = decode(file);
    assertEquals(problems, []);
    assertEquals(fields(packets), tsharkFixture(name));
  });
}

Deno.test("PcapngReader reads interfaces of different link types from mergecap output", () => {
  const file = Deno.readFileSync(new URL("merged_eth_sll2.pcapng", FIXTURES));
  const { packets } = decode(file);
  for (const p of packets) assertEquals(p.linkType, p.interfaceId === 0 ? 1 : 276);
  assertEquals(new Set(packets.map((p) => p.interfaceId)).size, 2);
});

Deno.test("PcapngReader hands out the TLS key log of an editcap Decryption Secrets Block", () => {
  const file = Deno.readFileSync(new URL("tls12_dsb.pcapng", FIXTURES));
  const keys = Deno.readFileSync(new URL("tls12.keys", FIXTURES));
  const { secrets } = decode(file);
  assertEquals(secrets.length, 1);
  assertEquals(secrets[0][0], SECRETS_TLS_KEYLOG);
  assertBytesEqual(secrets[0][1], keys);
});

Deno.test("PcapngReader gives the same packets and secrets for any chunking of a file", () => {
  for (const name of ["merged_eth_sll2.pcapng", "tls12_dsb.pcapng", "http_lo_ns.pcapng"]) {
    const file = Deno.readFileSync(new URL(name, FIXTURES));
    const whole = decode(file);
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = mulberry32(seed);
      const max = [1, 3, 17, 100, 2000][seed % 5];
      const got = decode(file, () => 1 + Math.floor(rnd() * max));
      assertEquals(got.problems, []);
      assertEquals(fields(got.packets), fields(whole.packets), `${name} seed ${seed}`);
      got.packets.forEach((p, i) => assertBytesEqual(p.data, whole.packets[i].data));
      assertEquals(got.secrets.length, whole.secrets.length);
      got.secrets.forEach((s, i) => assertBytesEqual(s[1], whole.secrets[i][1]));
    }
  }
});

Deno.test("PcapngReader returns views into the pushed chunk for whole blocks", () => {
  const file = Deno.readFileSync(new URL("http_lo_us.pcapng", FIXTURES));
  const r = new PcapngReader((p) => assert(p.data.buffer === file.buffer), () => {});
  r.push(file);
  r.finish();
});

for (const nanos of [false, true]) {
  for (const bigEndian of [false, true]) {
    Deno.test(`PcapngWriter round-trips through PcapngReader (${nanos ? "ns" : "µs"}, ${bigEndian ? "big" : "little"} endian)`, () => {
      const rnd = mulberry32(5);
      const w = new PcapngWriter({ nanos, bigEndian, bufferBytes: 3000 });
      const want: { sec: number; nsec: number; lt: number; data: Uint8Array; orig: number }[] = [];
      const secrets: Uint8Array[] = [];
      for (let i = 0; i < 300; i++) {
        if (i % 50 === 0) {
          const s = new TextEncoder().encode(`CLIENT_RANDOM ${i} ${"ab".repeat(i % 7)}\n`);
          secrets.push(s);
          w.secrets(SECRETS_TLS_KEYLOG, s);
        }
        const lt = [1, 1, 276, 101][i % 4];
        const data = bytes(Math.floor(rnd() * 1600), i);
        const sec = 1_700_000_000 + i * 3;
        const nsec = Math.floor(rnd() * 1e9);
        const orig = data.length + (i % 3);
        w.append(data, 0, data.length, orig, sec, nsec, lt);
        want.push({ sec, nsec: nanos ? nsec : Math.floor(nsec / 1000) * 1000, lt, data, orig });
      }
      w.append(bytes(10), 2, 5, 5, 0xffffffff, 999_999_999);
      want.push({
        sec: 0xffffffff,
        nsec: nanos ? 999_999_999 : 999_999_000,
        lt: 1,
        data: bytes(5, 2),
        orig: 5,
      });
      const file = drain(w);
      const got = decode(file, () => 1 + Math.floor(rnd() * 500));
      assertEquals(got.problems, []);
      assertEquals(got.packets.length, want.length);
      got.packets.forEach((p, i) => {
        assertEquals([p.sec, p.nsec, p.linkType, p.origLen], [
          want[i].sec,
          want[i].nsec,
          want[i].lt,
          want[i].orig,
        ]);
        assertEquals(p.interfaceId, [0, 1, 2][[1, 276, 101].indexOf(want[i].lt)]);
        assertBytesEqual(p.data, want[i].data);
      });
      assertEquals(got.secrets.length, secrets.length);
      got.secrets.forEach(([t, d], i) => {
        assertEquals(t, SECRETS_TLS_KEYLOG);
        assertBytesEqual(d, secrets[i]);
      });
    });
  }
}

Deno.test("timestampToSecNsec is exact for every resolution against a BigInt reference", () => {
  const rnd = mulberry32(42);
  const out = [0, 0];
  const resolutions = [
    ...Array(20).keys(),
    ...[...Array(65).keys()].map((n) => 0x80 | n),
    0x7f,
    0xff,
  ];
  for (const res of resolutions) {
    for (let i = 0; i < 400; i++) {
      const hi = i < 5 ? [0, 1, 0x1fffff, 0x200000, 0xffffffff][i] : Math.floor(rnd() * 2 ** 32);
      const lo = i % 7 === 0 ? 0xffffffff : Math.floor(rnd() * 2 ** 32);
      const t = (BigInt(hi) << 32n) | BigInt(lo);
      const n = BigInt(res & 0x7f);
      const den = res & 0x80 ? 1n << n : 10n ** n;
      timestampToSecNsec(hi, lo, res, out);
      const sec = t / den;
      // Beyond 2^53 seconds no number is exact.
      if (sec >= 1n << 53n) continue;
      assertEquals(out[0], Number(sec), `res 0x${res.toString(16)} t ${t}: seconds`);
      assertEquals(
        out[1],
        Number(((t - sec * den) * 1_000_000_000n) / den),
        `res 0x${res.toString(16)} t ${t}: nsec`,
      );
    }
  }
});

for (const le of [true, false]) {
  Deno.test(`PcapngReader applies if_tsresol and if_tsoffset (${le ? "little" : "big"} endian)`, () => {
    const file = concatBytes([
      shb(le),
      idb(le, 1, 0, option(le, 9, new Uint8Array([0x80 | 20]))), // 2^-20 s
      idb(
        le,
        1,
        0,
        option(le, 9, new Uint8Array([3])),
        option(le, 14, u64(le, 0xffffffff, 0xfffffff6)),
      ), // ms, -10 s
      idb(le, 113, 0, option(le, 14, u64(le, 0, 100))), // default µs, +100 s
      epb(le, 0, 0x1000, 0x80000, bytes(4)), // 0x1000_0008_0000 / 2^20 = 2^24 + 0.5 s
      epb(le, 1, Math.floor(1_700_000_000_123 / 2 ** 32), 1_700_000_000_123 % 2 ** 32, bytes(4)),
      epb(le, 2, 0, 1_000_001, bytes(4)),
    ]);
    const { packets, problems } = decode(file, () => 5);
    assertEquals(problems, []);
    assertEquals(packets.map((p) => [p.sec, p.nsec, p.linkType]), [
      [2 ** 24, 500_000_000, 1],
      [1_700_000_000 - 10, 123_000_000, 1],
      [101, 1_000, 113],
    ]);
  });
}

Deno.test("PcapngReader resets interfaces at each section, whatever its byte order", () => {
  const file = concatBytes([
    shb(true),
    idb(true, 1, 0),
    epb(true, 0, 0, 1_000_000, bytes(10)),
    shb(false),
    idb(false, 113, 0),
    epb(false, 0, 0, 2_000_000, bytes(20)),
    epb(false, 1, 0, 3_000_000, bytes(30)),
    shb(true),
    idb(true, 276, 0),
    idb(true, 1, 0),
    epb(true, 1, 0, 4_000_000, bytes(40)),
  ]);
  const { packets, problems } = decode(file, () => 13);
  assertEquals(packets.map((p) => [p.sec, p.linkType, p.interfaceId, p.data.length]), [
    [1, 1, 0, 10],
    [2, 113, 0, 20],
    [4, 1, 1, 40],
  ]);
  assertEquals(problems.map((p) => p.kind), ["bad_interface"]);
  assertEquals(
    problems[0].detail,
    `pcapng enhanced packet block at offset ${
      28 + 20 + 44 + 28 + 20 + 52
    }: interface 1 not described (1 in section 2)`,
  );
});

for (const le of [true, false]) {
  Deno.test(`PcapngReader cuts a Simple Packet Block to interface 0's snaplen (${le ? "little" : "big"} endian)`, () => {
    const spb = (orig: number, data: Uint8Array) =>
      block(PCAPNG_SPB, body(le, ["u32", orig], data), le);
    const file = concatBytes([
      shb(le),
      idb(le, 1, 64),
      epb(le, 0, 0, 5_000_007, bytes(8)),
      spb(100, bytes(100)),
      spb(30, bytes(30)),
    ]);
    const { packets, problems } = decode(file);
    assertEquals(problems, []);
    assertEquals(packets.map((p) => [p.sec, p.nsec, p.origLen, p.data.length]), [
      [5, 7000, 8, 8],
      [5, 7000, 100, 64],
      [5, 7000, 30, 30],
    ]);
    assertBytesEqual(packets[1].data, bytes(64));
  });
}

Deno.test("PcapngReader reads the obsolete Packet Block and skips unknown blocks", () => {
  const le = true;
  const pb = block(
    PCAPNG_PB,
    body(
      le,
      ["u16", 0],
      ["u16", 0],
      ["u32", 0],
      ["u32", 9_000_000],
      ["u32", 6],
      ["u32", 60],
      bytes(6),
    ),
    le,
  );
  const file = concatBytes([
    shb(le),
    block(4, body(le, ["u32", 0]), le), // Name Resolution Block
    idb(le, 1, 0),
    block(0x00000bad, bytes(13), le), // Custom Block
    block(5, body(le, ["u32", 0], ["u32", 0], ["u32", 0]), le), // Interface Statistics Block
    pb,
    block(0x12345678, new Uint8Array(0), le),
  ]);
  const { packets, problems } = decode(file, () => 3);
  assertEquals(problems, []);
  assertEquals(packets.map((p) => [p.sec, p.origLen, p.data.length]), [[9, 60, 6]]);
});

Deno.test("PcapngReader stops at hostile block lengths", () => {
  for (
    const [len, why] of [[0x7ffffff0, "> 16777216"], [13, "is not a multiple of 4"], [
      8,
      "< 12",
    ]] as const
  ) {
    const tail = epb(true, 0, 0, 1, bytes(4));
    new DataView(tail.buffer).setUint32(4, len, true);
    const file = concatBytes([
      shb(true),
      idb(true, 1, 0),
      epb(true, 0, 0, 1, bytes(4)),
      tail,
      epb(true, 0, 0, 1, bytes(4)),
    ]);
    const { packets, problems } = decode(file, () => 9);
    assertEquals(packets.length, 1);
    assertEquals(problems, [{
      kind: "hostile_length",
      offset: 28 + 20 + 36,
      detail: `pcapng block at offset 84: total length ${len} ${why}`,
    }]);
  }
});

Deno.test("PcapngReader stops when a trailing block length differs from the leading one", () => {
  const bad = epb(true, 0, 0, 1, bytes(4));
  new DataView(bad.buffer).setUint32(bad.length - 4, 40, true);
  const file = concatBytes([shb(true), idb(true, 1, 0), bad, epb(true, 0, 0, 1, bytes(4))]);
  const { packets, problems } = decode(file);
  assertEquals(packets, []);
  assertEquals(problems.map((p) => [p.kind, p.detail]), [[
    "bad_block_length",
    "pcapng block type 0x00000006 at offset 48: trailing length 40 != leading length 36",
  ]]);
});

Deno.test("PcapngReader skips blocks that are well framed but malformed inside", () => {
  const overlong = epb(true, 0, 0, 1, bytes(4));
  new DataView(overlong.buffer).setUint32(20, 5, true);
  const dsb = block(
    PCAPNG_DSB,
    body(true, ["u32", SECRETS_TLS_KEYLOG], ["u32", 99], bytes(8)),
    true,
  );
  const file = concatBytes([
    shb(true),
    idb(true, 1, 0),
    overlong,
    dsb,
    block(PCAPNG_EPB, bytes(8), true),
    epb(true, 0, 0, 2_000_000, bytes(4), 1),
  ]);
  const { packets, problems } = decode(file);
  assertEquals(packets.map((p) => [p.sec, p.origLen]), [[2, 4]]);
  assertEquals(problems.map((p) => p.kind), ["malformed", "malformed", "malformed", "bad_length"]);
  assertEquals(
    problems[0].detail,
    "pcapng enhanced packet block at offset 48: captured length 5 > 4 bytes in block",
  );
});

Deno.test("PcapngReader rejects a file that does not start with a Section Header Block", () => {
  const { problems } = decode(concatBytes([idb(true, 1, 0), shb(true)]));
  assertEquals(problems.map((p) => p.detail), [
    "pcapng at offset 0: first block type 0x00000001 is not a Section Header Block",
  ]);
  const badBom = shb(true);
  badBom[8] = 0;
  assertEquals(decode(badBom).problems.map((p) => p.kind), ["bad_magic"]);
});

Deno.test("PcapngReader reports truncation at every offset of a small file without throwing", () => {
  const file = Deno.readFileSync(new URL("http_lo_us.pcapng", FIXTURES));
  const whole = decode(file).packets;
  const ends = new Set<number>();
  const dv = new DataView(file.buffer);
  for (let o = 0; o < file.length; o += dv.getUint32(o + 4, true)) ends.add(o);
  for (let cut = 0; cut < file.length; cut++) {
    for (const step of [1, 7, 4096]) {
      const { packets, problems } = decode(file.subarray(0, cut), () => step);
      const clean = cut > 0 && ends.has(cut);
      assertEquals(problems.map((p) => p.kind), clean ? [] : ["truncated"], `cut at ${cut}`);
      assertEquals(fields(packets), fields(whole.slice(0, packets.length)));
    }
  }
});

Deno.test("PcapngReader survives random corruption", () => {
  const file = Deno.readFileSync(new URL("tls12_dsb.pcapng", FIXTURES));
  const rnd = mulberry32(77);
  for (let i = 0; i < 300; i++) {
    const bad = file.slice();
    for (let k = 0; k < 8; k++) bad[Math.floor(rnd() * bad.length)] = Math.floor(rnd() * 256);
    const { packets } = decode(bad, () => 1 + Math.floor(rnd() * 700));
    for (const p of packets) assert(p.nsec >= 0 && p.nsec < 1e9 && p.origLen >= p.data.length);
  }
});

async function tshark(path: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("tshark", { args: ["-r", path, ...args] }).output();
  const err = new TextDecoder().decode(out.stderr).replace(/^Running as user.*\n?/m, "");
  assert(out.success, `tshark -r ${path} failed: ${err}`);
  assertEquals(err.trim(), "", `tshark -r ${path} complained`);
  return new TextDecoder().decode(out.stdout);
}

for (const nanos of [false, true]) {
  Deno.test({
    name: `PcapngWriter output is read by tshark with the times, lengths and interfaces written (${
      nanos ? "ns" : "µs"
    })`,
    ignore: NO_TSHARK,
    async fn() {
      const rnd = mulberry32(8);
      const w = new PcapngWriter({ nanos, bigEndian: nanos });
      const want: string[] = [];
      for (let i = 0; i < 60; i++) {
        const lt = i % 3 === 0 ? 276 : 1;
        const data = bytes(20 + Math.floor(rnd() * 1500));
        const sec = 1_700_000_000 + i;
        const nsec = Math.floor(rnd() * 1e9);
        w.append(data, 0, data.length, data.length + 4, sec, nsec, lt);
        const t = epoch(sec, nanos ? nsec : Math.floor(nsec / 1000) * 1000);
        want.push(`${t}\t${data.length + 4}\t${data.length}\t${lt === 276 ? 0 : 1}`);
      }
      const path = await Deno.makeTempFile({ suffix: ".pcapng" });
      try {
        await Deno.writeFile(path, drain(w));
        const out = await tshark(
          path,
          "-T",
          "fields",
          "-e",
          "frame.time_epoch",
          "-e",
          "frame.len",
          "-e",
          "frame.cap_len",
          "-e",
          "frame.interface_id",
        );
        assertEquals(out.trimEnd().split("\n"), want);
        const info = await new Deno.Command("capinfos", { args: ["-c", "-M", path] }).output();
        assert(info.success, new TextDecoder().decode(info.stderr));
      } finally {
        await Deno.remove(path);
      }
    },
  });
}

Deno.test({
  name: "PcapngWriter DSB with a TLS key log lets tshark decrypt the HTTP request",
  ignore: NO_TSHARK,
  async fn() {
    const pcap = Deno.readFileSync(new URL("tls12_lo.pcap", FIXTURES));
    const keys = Deno.readFileSync(new URL("tls12.keys", FIXTURES));
    const dir = await Deno.makeTempDir();
    try {
      for (const withKeys of [true, false]) {
        const w = new PcapngWriter({ bufferBytes: 2048 });
        if (withKeys) w.secrets(SECRETS_TLS_KEYLOG, keys);
        const r = new PcapReader(
          (p) => w.append(p.data, 0, p.data.length, p.origLen, p.sec, p.nsec, p.linkType),
          (p) => {
            throw new Error(p.detail);
          },
        );
        r.push(pcap);
        r.finish();
        const path = `${dir}/tls_${withKeys}.pcapng`;
        await Deno.writeFile(path, drain(w));
        const out = await tshark(path, "-Y", "http");
        if (withKeys) assert(out.includes("GET / HTTP/1.1"), `tshark -Y http printed: ${out}`);
        else assertEquals(out, "");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("PcapngWriter pads secrets and frames to 4 bytes", () => {
  const w = new PcapngWriter({ linkType: 1, nanos: false });
  w.secrets(SECRETS_TLS_KEYLOG, bytes(5));
  w.append(bytes(7), 0, 7, 7, 1, 0);
  const out = drain(w);
  assertEquals(out.length % 4, 0);
  const dv = new DataView(out.buffer);
  const shbLen = dv.getUint32(4, true);
  assertEquals([dv.getUint32(shbLen, true), dv.getUint32(shbLen + 4, true)], [PCAPNG_DSB, 28]);
  assertEquals([dv.getUint32(shbLen + 28, true), dv.getUint32(shbLen + 32, true)], [
    PCAPNG_IDB,
    20,
  ]);
  assertEquals([dv.getUint32(shbLen + 48, true), dv.getUint32(shbLen + 52, true)], [
    PCAPNG_EPB,
    40,
  ]);
});
