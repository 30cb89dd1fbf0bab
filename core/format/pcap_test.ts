/**
 * PcapReader / PcapWriter: tcpdump captures checked against tshark's reading,
 * round trips in both byte orders and resolutions, chunk-boundary fuzz,
 * hostile and truncated input, and the writer's output read back by tshark.
 *
 * ```
 *  tcpdump fixture ──push(random chunks)──▶ PcapReader ──▶ packets == tshark fields (.tshark.txt)
 *  packets ──PcapWriter──▶ file ──▶ PcapReader / tshark ──▶ same times, lengths, bytes
 * ```
 */
import { assert, assertBytesEqual, assertEquals } from "../../tests/assert.ts";
import type { DecodeProblem } from "./ctap_record.ts";
import type { CapturedPacket } from "./capture.ts";
import { PCAP_MAX_CAPLEN, PcapReader, PcapWriter } from "./pcap.ts";
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
}

/** Pushes `file` in chunks of the sizes `sizes()` yields, copying each chunk. */
function decode(file: Uint8Array, sizes: () => number = () => file.length): Decoded {
  const packets: CapturedPacket[] = [];
  const problems: DecodeProblem[] = [];
  const r = new PcapReader((p) => packets.push(p), (p) => problems.push(p));
  for (let off = 0; off < file.length;) {
    const n = Math.max(1, Math.min(sizes(), file.length - off));
    r.push(file.slice(off, off + n));
    off += n;
  }
  r.finish();
  return { packets, problems };
}

function epoch(sec: number, nsec: number): string {
  return `${sec}.${String(nsec).padStart(9, "0")}`;
}

/** The `tshark -T fields -e frame.time_epoch -e frame.len -e frame.cap_len` lines of packets. */
function fields(packets: CapturedPacket[]): string[] {
  return packets.map((p) => `${epoch(p.sec, p.nsec)}\t${p.origLen}\t${p.data.length}`);
}

function tsharkFixture(name: string): string[] {
  return Deno.readTextFileSync(new URL(name + ".tshark.txt", FIXTURES)).trimEnd().split("\n")
    .map((l) => l.split("\t").slice(0, 3).join("\t"));
}

/** The whole file a writer produced: header plus every chunk it hands out. */
function drain(w: { header(): Uint8Array; take(): Uint8Array | null }): Uint8Array {
  const parts = [w.header()];
  for (let b; (b = w.take()) !== null;) parts.push(b);
  return concatBytes(parts);
}

interface Sample {
  frame: Uint8Array;
  origLen: number;
  sec: number;
  nsec: number;
}

function samples(n: number, seed: number): Sample[] {
  const rnd = mulberry32(seed);
  const out: Sample[] = [];
  let sec = 1_700_000_000;
  for (let i = 0; i < n; i++) {
    const len = i % 7 === 0 ? 1514 : Math.floor(rnd() * 200) + 14;
    const frame = new Uint8Array(len);
    for (let j = 0; j < len; j++) frame[j] = Math.floor(rnd() * 256);
    sec += Math.floor(rnd() * 3);
    out.push({ frame, origLen: len + (i % 5 === 0 ? 100 : 0), sec, nsec: Math.floor(rnd() * 1e9) });
  }
  out.push({ frame: new Uint8Array(60), origLen: 60, sec: 0xffffffff, nsec: 999_999_999 });
  out.push({ frame: new Uint8Array(0), origLen: 0, sec: 0, nsec: 0 });
  return out;
}

function writePcap(s: Sample[], opts: ConstructorParameters<typeof PcapWriter>[0]): Uint8Array {
  const w = new PcapWriter(opts);
  for (const x of s) w.append(x.frame, 0, x.frame.length, x.origLen, x.sec, x.nsec);
  return drain(w);
}

async function tshark(path: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("tshark", { args: ["-r", path, ...args] }).output();
  const err = new TextDecoder().decode(out.stderr).replace(/^Running as user.*\n?/m, "");
  assert(out.success, `tshark -r ${path} failed: ${err}`);
  assertEquals(err.trim(), "", `tshark -r ${path} complained`);
  return new TextDecoder().decode(out.stdout);
}

for (const name of ["http_lo_us.pcap", "http_lo_ns.pcap", "http_any_sll2.pcap", "tls12_lo.pcap"]) {
  Deno.test(`PcapReader reads tcpdump capture ${name} as tshark does`, () => {
    const file = Deno.readFileSync(new URL(name, FIXTURES));
    const { packets, problems } = decode(file);
    assertEquals(problems, []);
    assertEquals(fields(packets), tsharkFixture(name));
    const linkType = name.includes("sll2") ? 276 : 1;
    for (const p of packets) assertEquals([p.linkType, p.interfaceId], [linkType, 0]);
  });
}

Deno.test("PcapReader returns views into the pushed chunk for whole records", () => {
  const file = Deno.readFileSync(new URL("http_lo_us.pcap", FIXTURES));
  const one: CapturedPacket[] = [];
  const r = new PcapReader((p) => one.push(p), () => {});
  r.push(file);
  r.finish();
  for (const p of one) assert(p.data.buffer === file.buffer, "record copied needlessly");
});

Deno.test("PcapReader gives the same packets for any chunking of a file", () => {
  for (const name of ["http_lo_us.pcap", "http_lo_ns.pcap", "http_any_sll2.pcap"]) {
    const file = Deno.readFileSync(new URL(name, FIXTURES));
    const whole = decode(file);
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = mulberry32(seed);
      const max = [1, 3, 17, 100, 2000][seed % 5];
      const got = decode(file, () => 1 + Math.floor(rnd() * max));
      assertEquals(got.problems, []);
      assertEquals(fields(got.packets), fields(whole.packets), `${name} seed ${seed}`);
      got.packets.forEach((p, i) =>
        assertBytesEqual(p.data, whole.packets[i].data, `${name} #${i}`)
      );
    }
  }
});

for (const nanos of [false, true]) {
  for (const bigEndian of [false, true]) {
    Deno.test(`PcapWriter round-trips through PcapReader (${nanos ? "ns" : "µs"}, ${bigEndian ? "big" : "little"} endian)`, () => {
      const s = samples(200, 7);
      const file = writePcap(s, { linkType: 1, nanos, bigEndian, bufferBytes: 4096 });
      const rnd = mulberry32(3);
      const { packets, problems } = decode(file, () => 1 + Math.floor(rnd() * 300));
      assertEquals(problems, []);
      assertEquals(packets.length, s.length);
      packets.forEach((p, i) => {
        const x = s[i];
        assertEquals(p.sec, x.sec);
        assertEquals(p.nsec, nanos ? x.nsec : Math.floor(x.nsec / 1000) * 1000);
        assertEquals(p.origLen, x.origLen);
        assertEquals(p.linkType, 1);
        assertBytesEqual(p.data, x.frame, `packet ${i}`);
      });
      const magic = new DataView(file.buffer).getUint32(0, !bigEndian);
      assertEquals(magic, nanos ? 0xa1b23c4d : 0xa1b2c3d4);
    });
  }
}

Deno.test("PcapWriter cuts frames to snaplen and keeps the original length", () => {
  const w = new PcapWriter({ linkType: 1, snaplen: 100 });
  const frame = new Uint8Array(300).map((_, i) => i);
  w.append(frame, 50, 250, 250, 10, 5000);
  const { packets } = decode(drain(w));
  assertEquals(packets.length, 1);
  assertEquals(packets[0].origLen, 250);
  assertBytesEqual(packets[0].data, frame.subarray(50, 150));
});

Deno.test("PcapWriter hands out buffers that later appends never overwrite", () => {
  const w = new PcapWriter({ linkType: 1, bufferBytes: 1000 });
  const taken: Uint8Array[] = [w.header()];
  const copies: Uint8Array[] = [taken[0].slice()];
  const s = samples(60, 11);
  for (const x of s) {
    w.append(x.frame, 0, x.frame.length, x.origLen, x.sec, x.nsec);
    if (w.pending >= 700) {
      const b = w.take()!;
      taken.push(b);
      copies.push(b.slice());
    }
  }
  assert(w.pending > 0);
  for (let b; (b = w.take()) !== null;) {
    taken.push(b);
    copies.push(b.slice());
  }
  assertEquals(w.pending, 0);
  assertEquals(w.take(), null);
  taken.forEach((b, i) => assertBytesEqual(b, copies[i], `chunk ${i}`));
  const { packets, problems } = decode(concatBytes(taken));
  assertEquals(problems, []);
  assertEquals(packets.length, s.length);
});

Deno.test("PcapReader skips a record with a hostile captured length", () => {
  const s = samples(3, 1);
  const file = writePcap(s, { linkType: 1 });
  const second = 24 + 16 + s[0].frame.length;
  new DataView(file.buffer).setUint32(second + 8, 0xffffffff, true);
  const { packets, problems } = decode(file);
  assertEquals(packets.length, 1);
  assertEquals(problems, [{
    kind: "hostile_length",
    offset: second,
    detail: `pcap record at offset ${second}: captured length 4294967295 > snaplen cap 262144`,
  }]);
});

Deno.test("PcapReader treats a captured length above a sane snaplen as hostile", () => {
  const w = new PcapWriter({ linkType: 1, snaplen: 1000 });
  w.append(new Uint8Array(500), 0, 500, 500, 1, 0);
  w.append(new Uint8Array(500), 0, 500, 500, 2, 0);
  const file = drain(w);
  new DataView(file.buffer).setUint32(24 + 16 + 500 + 8, 1001, true);
  const { packets, problems } = decode(file, () => 7);
  assertEquals(packets.length, 1);
  assertEquals(problems.map((p) => p.detail), [
    "pcap record at offset 540: captured length 1001 > snaplen 1000",
  ]);
  // An insane snaplen falls back to the 256 KiB cap.
  const big = new PcapWriter({ linkType: 1, snaplen: 0xffffffff });
  big.append(new Uint8Array(PCAP_MAX_CAPLEN), 0, PCAP_MAX_CAPLEN, PCAP_MAX_CAPLEN, 1, 0);
  assertEquals(decode(drain(big)).problems, []);
});

Deno.test("PcapReader reports truncation at every offset of a small file without throwing", () => {
  const file = Deno.readFileSync(new URL("http_lo_us.pcap", FIXTURES));
  const whole = decode(file).packets;
  const ends = new Set<number>();
  let o = 24;
  for (const p of whole) ends.add(o += 16 + p.data.length);
  for (let cut = 0; cut < file.length; cut++) {
    for (const step of [1, 5, 4096]) {
      const { packets, problems } = decode(file.subarray(0, cut), () => step);
      const clean = ends.has(cut) || cut === 24;
      assertEquals(problems.length, clean ? 0 : 1, `cut at ${cut}`);
      if (!clean) assertEquals(problems[0].kind, "truncated", `cut at ${cut}`);
      assertEquals(fields(packets), fields(whole.slice(0, packets.length)));
    }
  }
  assertEquals(
    decode(new Uint8Array(0)).problems[0].detail,
    "pcap file header at offset 0: input ends after 0 of 24 bytes",
  );
  assertEquals(
    decode(file.subarray(0, 50)).problems[0].detail,
    "pcap record at offset 24: input ends after 26 of 90 bytes",
  );
});

Deno.test("PcapReader survives random corruption", () => {
  const file = Deno.readFileSync(new URL("tls12_lo.pcap", FIXTURES));
  const rnd = mulberry32(99);
  for (let i = 0; i < 300; i++) {
    const bad = file.slice();
    for (let k = 0; k < 8; k++) bad[Math.floor(rnd() * bad.length)] = Math.floor(rnd() * 256);
    const { packets } = decode(bad, () => 1 + Math.floor(rnd() * 700));
    for (const p of packets) assert(p.nsec >= 0 && p.nsec < 1e9 && p.origLen >= p.data.length);
  }
});

Deno.test("PcapReader masks the FCS bits off the link type and rejects a bad magic", () => {
  const file = writePcap(samples(2, 5), { linkType: 1 });
  // draft-ietf-opsawg-pcap: F bit and FCS length 2 (16-bit words) in the top bits.
  new DataView(file.buffer).setUint32(20, 0x24000001, true);
  const { packets, problems } = decode(file);
  assertEquals(problems, []);
  assert(packets.every((p) => p.linkType === 1));
  file[0] = 0x00;
  const bad = decode(file);
  assertEquals(bad.packets, []);
  assertEquals(bad.problems.map((p) => p.kind), ["bad_magic"]);
});

Deno.test("PcapReader carries an out-of-range fraction into seconds and reports it", () => {
  const w = new PcapWriter({ linkType: 1 });
  w.append(new Uint8Array(20), 0, 20, 20, 100, 0);
  const file = drain(w);
  new DataView(file.buffer).setUint32(24 + 4, 2_500_000, true);
  const { packets, problems } = decode(file);
  assertEquals([packets[0].sec, packets[0].nsec], [102, 500_000_000]);
  assertEquals(problems.map((p) => p.kind), ["bad_timestamp"]);
});

Deno.test("PcapReader lets a callback's own error propagate", () => {
  const file = writePcap(samples(2, 5), { linkType: 1 });
  const r = new PcapReader(() => {
    throw new Error("consumer failed");
  }, () => {});
  let caught = "";
  try {
    r.push(file);
  } catch (e) {
    caught = (e as Error).message;
  }
  assertEquals(caught, "consumer failed");
});

for (const nanos of [false, true]) {
  Deno.test({
    name: `PcapWriter output is read by tshark with the times and lengths written (${
      nanos ? "ns" : "µs"
    })`,
    ignore: NO_TSHARK,
    async fn() {
      const s = samples(50, 21);
      const file = writePcap(s, { linkType: 1, nanos });
      const path = await Deno.makeTempFile({ suffix: ".pcap" });
      try {
        await Deno.writeFile(path, file);
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
        );
        const want = s.map((x) =>
          `${
            epoch(x.sec, nanos ? x.nsec : Math.floor(x.nsec / 1000) * 1000)
          }\t${x.origLen}\t${x.frame.length}`
        );
        assertEquals(out.trimEnd().split("\n"), want);
        const info = await new Deno.Command("capinfos", { args: ["-c", "-M", path] }).output();
        assert(info.success, new TextDecoder().decode(info.stderr));
        assertEquals(
          /Number of packets:\s+(\d+)/.exec(new TextDecoder().decode(info.stdout))?.[1],
          String(s.length),
        );
      } finally {
        await Deno.remove(path);
      }
    },
  });
}
