/**
 * Bad input, end to end through the compiled binary: a bucket holds origin
 * GOOD (http_plain_v4.pcap, packed and left alone) and origin BAD
 * (tls12_v4.pcap packed into many small objects), and each test damages BAD
 * in one way. Every damage must be listed in the report's `problems` with
 * its object key and reason, the run must go on and exit 0 (1 with
 * `--strict`), GOOD's connections must come out byte for byte as tshark sees
 * them in the original capture, and tshark must find nothing malformed.
 * `pack` gets the same treatment for a pcap with a hostile captured length.
 */
import { assert, assertEquals } from "./assert.ts";
import { ROOT, runBin } from "./lib/bin.ts";
import { hasTool, malformedCount, type StreamBytes, tcpStreams } from "./lib/oracle.ts";
import { formatObjectKey, parseObjectKey } from "../core/format/object_key.ts";
import { gzipBytes } from "../core/format/gzip.ts";

const CAPS = `${ROOT}/tests/fixtures/captures`;
const GOOD_PCAP = `${CAPS}/http_plain_v4.pcap`;
const BAD_PCAP = `${CAPS}/tls12_v4.pcap`;
const BAD_KEYS = `${CAPS}/tls12_v4.keys`;
/** tls12_v4.pcap spans 0.15 s: 20 ms windows give several BAD objects. */
const BAD_WINDOW = "0.02";
const MAX_BODY = 16 * 1024 * 1024;

const ignore = !hasTool("tshark");

interface ProblemEntry {
  where: string;
  kind: string;
  offset?: number;
  detail: string;
}

interface Bucket {
  dir: string;
  bucket: string;
  /** BAD's data object keys, in key order. */
  badKeys: string[];
}

let goodStreams: Promise<Map<string, StreamBytes>> | null = null;

/** tshark's view of the untouched GOOD capture. */
function originalGood(): Promise<Map<string, StreamBytes>> {
  goodStreams ??= tcpStreams(GOOD_PCAP);
  return goodStreams;
}

/** Every secret of the key log (the last field of each line), lower-case hex. */
async function secretsOf(keylog: string): Promise<string[]> {
  const out: string[] = [];
  for (const line of (await Deno.readTextFile(keylog)).split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length === 3 && !line.startsWith("#")) out.push(f[2].toLowerCase());
  }
  return out;
}

async function listFiles(root: string, sub: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(`${root}/${rel}`)) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory) await walk(r);
      else out.push(r);
    }
  };
  await walk(sub);
  return out.sort();
}

async function pack(args: string[]): Promise<void> {
  const r = await runBin(["pack", ...args]);
  assertEquals(r.code, 0, `pack ${args.join(" ")} failed: ${r.stderr}`);
}

/** Packs `pcap` (origin GOOD) into `bucket`, exit 0, and returns its `--report`. */
async function packWithReport(
  pcap: string,
  bucket: string,
  report: string,
): Promise<{ packets: number; problems: ProblemEntry[] }> {
  await pack([
    "--pcap",
    pcap,
    "--origin",
    "GOOD",
    "--provider",
    "file",
    "-b",
    bucket,
    "--report",
    report,
  ]);
  return JSON.parse(await Deno.readTextFile(report));
}

async function makeBucket(): Promise<Bucket> {
  const dir = await Deno.makeTempDir({ prefix: "stitcher_bad_input_" });
  const bucket = `${dir}/bucket`;
  await pack(["--pcap", GOOD_PCAP, "--origin", "GOOD", "--provider", "file", "-b", bucket]);
  await pack([
    "--pcap",
    BAD_PCAP,
    "--keylog",
    BAD_KEYS,
    "--origin",
    "BAD",
    "--provider",
    "file",
    "-b",
    bucket,
    "--window",
    BAD_WINDOW,
  ]);
  const badKeys = await listFiles(bucket, "data/BAD");
  assert(badKeys.length >= 3, `expected several BAD objects, got ${badKeys.length}`);
  return { dir, bucket, badKeys };
}

interface Rec {
  off: number;
  type: number;
  len: number;
}

/** Record framing of a (good) CTAP object: header, then type/flags/reserved/L/body/CRC. */
function records(obj: Uint8Array): Rec[] {
  const dv = new DataView(obj.buffer, obj.byteOffset, obj.byteLength);
  let off = 12 + dv.getUint32(8, true);
  const out: Rec[] = [];
  while (off + 12 <= obj.length) {
    const len = dv.getUint32(off + 4, true);
    out.push({ off, type: obj[off], len });
    off += 12 + len;
  }
  assertEquals(off, obj.length, "object framing");
  return out;
}

/** The BAD object with the most DATA records (the one damaged), and its bytes. */
async function target(b: Bucket): Promise<{ key: string; bytes: Uint8Array; recs: Rec[] }> {
  let best: { key: string; bytes: Uint8Array; recs: Rec[] } | null = null;
  for (const key of b.badKeys) {
    const bytes = await Deno.readFile(`${b.bucket}/${key}`);
    const recs = records(bytes);
    const n = recs.filter((r) => r.type === 2).length;
    if (best === null || n > best.recs.filter((r) => r.type === 2).length) {
      best = { key, bytes, recs };
    }
  }
  assert(best !== null && best.recs.filter((r) => r.type === 2).length >= 3);
  return best;
}

/** A DATA record in the middle of the object, with a payload of at least `min` bytes. */
function middleData(recs: Rec[], min = 32): Rec {
  const data = recs.filter((r) => r.type === 2 && r.len - 25 >= min);
  assert(data.length > 0, "no DATA record with payload to damage");
  return data[Math.floor(data.length / 2)];
}

/** Deterministic pseudo-random bytes (xorshift32). */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

async function writeObject(b: Bucket, key: string, bytes: Uint8Array): Promise<void> {
  const path = `${b.bucket}/${key}`;
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeFile(path, bytes);
}

/** GOOD's connections in `outPcap` carry exactly the original capture's bytes, per direction. */
async function assertGoodIntact(outPcap: string): Promise<void> {
  const orig = await originalGood();
  const out = await tcpStreams(outPcap);
  assertEquals(orig.size, 3, "http_plain_v4 has 3 connections");
  for (const [k, o] of orig) {
    const s = out.get(k);
    assert(s !== undefined, `GOOD connection ${k} missing from the output`);
    assert(o.client.length > 0 && o.server.length > 0, `${k}: original has payload`);
    assert(
      equalBytes(s.client, o.client),
      `${k} client bytes differ (${s.client.length} vs ${o.client.length})`,
    );
    assert(
      equalBytes(s.server, o.server),
      `${k} server bytes differ (${s.server.length} vs ${o.server.length})`,
    );
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function assertNoSecrets(text: string, what: string): Promise<void> {
  const lower = text.toLowerCase();
  for (const s of await secretsOf(BAD_KEYS)) {
    assert(!lower.includes(s), `${what} contains a key-log secret`);
    // also no 16-byte run of it (e.g. a truncated hex dump)
    assert(!lower.includes(s.slice(0, 32)), `${what} contains part of a key-log secret`);
  }
}

/**
 * Stitches the bucket; the report must list a problem `kind` at `where`;
 * exit 0, GOOD intact, nothing malformed, no secrets; `--strict` exits 1.
 */
async function assertHandled(b: Bucket, where: string, kind: string): Promise<ProblemEntry> {
  const out = `${b.dir}/out.pcap`;
  const reportPath = `${b.dir}/report.json`;
  const args = ["--provider", "file", "-b", b.bucket, "-e", out, "--report", reportPath];
  const r = await runBin(args);
  assertEquals(r.code, 0, `stitch exit code; stderr:\n${r.stderr}`);
  const reportText = await Deno.readTextFile(reportPath);
  const report = JSON.parse(reportText) as {
    problems: ProblemEntry[];
    errors: Record<string, number>;
  };
  const hit = report.problems.find((p) => p.where === where && p.kind === kind);
  assert(
    hit !== undefined,
    `report has no problem {where: ${where}, kind: ${kind}}; problems: ${
      JSON.stringify(report.problems)
    }`,
  );
  assert((report.errors[kind] ?? 0) >= 1, `errors.${kind} counted`);
  assert(typeof hit.detail === "string" && hit.detail.length > 0, "problem has a detail");
  assert(!r.stderr.includes("    at "), `no stack trace in stderr:\n${r.stderr}`);
  await assertGoodIntact(out);
  assertEquals(await malformedCount(out), 0, "tshark: malformed or error frames in the output");
  await assertNoSecrets(r.stderr, "stderr");
  await assertNoSecrets(reportText, "report");

  const strict = await runBin([
    "--provider",
    "file",
    "-b",
    b.bucket,
    "-e",
    `${b.dir}/strict.pcap`,
    "--strict",
  ]);
  assertEquals(strict.code, 1, `--strict exit code; stderr:\n${strict.stderr}`);
  return hit;
}

function bucketTest(name: string, fn: (b: Bucket) => Promise<void>): void {
  Deno.test({
    name,
    ignore,
    sanitizeResources: false,
    async fn() {
      const b = await makeBucket();
      try {
        await fn(b);
      } finally {
        await Deno.remove(b.dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "stitcher: an undamaged bucket has no problems and --strict exits 0",
  ignore,
  sanitizeResources: false,
  async fn() {
    const b = await makeBucket();
    try {
      const out = `${b.dir}/out.pcap`;
      const rp = `${b.dir}/report.json`;
      const r = await runBin([
        "--provider",
        "file",
        "-b",
        b.bucket,
        "-e",
        out,
        "--report",
        rp,
        "--strict",
      ]);
      assertEquals(r.code, 0, r.stderr);
      const report = JSON.parse(await Deno.readTextFile(rp));
      assertEquals(report.problems, []);
      assertEquals(report.errors, {});
      await assertGoodIntact(out);
      assertEquals(await malformedCount(out), 0);
    } finally {
      await Deno.remove(b.dir, { recursive: true });
    }
  },
});

bucketTest("stitcher: an object cut mid-record is reported truncated", async (b) => {
  const t = await target(b);
  const rec = middleData(t.recs);
  await Deno.writeFile(
    `${b.bucket}/${t.key}`,
    t.bytes.subarray(0, rec.off + 8 + Math.floor(rec.len / 2)),
  );
  const p = await assertHandled(b, t.key, "truncated");
  assertEquals(p.offset, rec.off, "truncated at the cut record's offset");
});

bucketTest("stitcher: a flipped byte in a record body is reported bad_crc", async (b) => {
  const t = await target(b);
  const rec = middleData(t.recs);
  const bytes = t.bytes.slice();
  bytes[rec.off + 8 + rec.len - 5] ^= 0x40; // inside the payload
  await Deno.writeFile(`${b.bucket}/${t.key}`, bytes);
  const p = await assertHandled(b, t.key, "bad_crc");
  assertEquals(p.offset, rec.off, "bad_crc at the damaged record's offset");
});

bucketTest("stitcher: garbage bytes under a valid data key are reported bad_magic", async (b) => {
  const k = parseObjectKey(b.badKeys[0])!;
  const key = formatObjectKey({
    kind: "data",
    origin: "BAD",
    startMs: k.startMs,
    endMs: k.endMs,
    writer: "junk",
    seq: 0,
  });
  const junk = noise(5000, 12345);
  junk[0] = 0x00; // never "CTAP"
  await writeObject(b, key, junk);
  await assertHandled(b, key, "bad_magic");
});

bucketTest("stitcher: a wrongly named file under data/ is reported bad_name", async (b) => {
  const k = parseObjectKey(b.badKeys[0])!;
  const folder = b.badKeys[0].slice(0, b.badKeys[0].lastIndexOf("/") + 1);
  // A good object under a name outside the layout: skipped by its name alone.
  const copy = await Deno.readFile(`${b.bucket}/${b.badKeys[0]}`);
  const key = `${folder}${k.startMs}-w0-copy.ctap`;
  await writeObject(b, key, copy);
  await assertHandled(b, key, "bad_name");
});

bucketTest("stitcher: an empty object is reported truncated", async (b) => {
  const t = await target(b);
  await Deno.writeFile(`${b.bucket}/${t.key}`, new Uint8Array(0));
  const p = await assertHandled(b, t.key, "truncated");
  assert(/empty/.test(p.detail), `detail says empty: ${p.detail}`);
});

bucketTest("stitcher: a first record claiming 16 MiB + 1 is reported hostile_length", async (b) => {
  const t = await target(b);
  const bytes = t.bytes.slice();
  const first = t.recs[0];
  new DataView(bytes.buffer).setUint32(first.off + 4, MAX_BODY + 1, true);
  await Deno.writeFile(`${b.bucket}/${t.key}`, bytes);
  const p = await assertHandled(b, t.key, "hostile_length");
  assertEquals(p.offset, first.off);
});

bucketTest(
  "stitcher: a header claiming 16 MiB + 1 of TLVs is reported hostile_length",
  async (b) => {
    const t = await target(b);
    const bytes = t.bytes.slice();
    new DataView(bytes.buffer).setUint32(8, MAX_BODY + 1, true);
    await Deno.writeFile(`${b.bucket}/${t.key}`, bytes);
    await assertHandled(b, t.key, "hostile_length");
  },
);

bucketTest("stitcher: an object of an unknown version is reported bad_version", async (b) => {
  const t = await target(b);
  const bytes = t.bytes.slice();
  new DataView(bytes.buffer).setUint16(4, 2, true);
  await Deno.writeFile(`${b.bucket}/${t.key}`, bytes);
  await assertHandled(b, t.key, "bad_version");
});

bucketTest("stitcher: bytes after the END record are reported after_end", async (b) => {
  const t = await target(b);
  const bytes = new Uint8Array(t.bytes.length + 100);
  bytes.set(t.bytes);
  bytes.set(noise(100, 7), t.bytes.length);
  await Deno.writeFile(`${b.bucket}/${t.key}`, bytes);
  const p = await assertHandled(b, t.key, "after_end");
  assertEquals(p.offset, t.bytes.length);
});

bucketTest("stitcher: a .ctap.gz that is not gzip is reported bad_gzip", async (b) => {
  const t = await target(b);
  await Deno.remove(`${b.bucket}/${t.key}`);
  const key = t.key + ".gz";
  await writeObject(b, key, t.bytes); // CTAP bytes under a .gz name
  await assertHandled(b, key, "bad_gzip");
});

bucketTest("stitcher: a .ctap.gz with a corrupt deflate stream is reported", async (b) => {
  const t = await target(b);
  await Deno.remove(`${b.bucket}/${t.key}`);
  const key = t.key + ".gz";
  const gz = (await gzipBytes(t.bytes)).slice();
  // Damage the deflate data past its first block header, then the CRC/ISIZE trailer.
  for (let i = Math.floor(gz.length / 2); i < Math.floor(gz.length / 2) + 16; i++) gz[i] ^= 0xa5;
  for (let i = gz.length - 8; i < gz.length; i++) gz[i] ^= 0xff;
  await writeObject(b, key, gz);
  const out = `${b.dir}/probe.json`;
  const r = await runBin([
    "--provider",
    "file",
    "-b",
    b.bucket,
    "-e",
    `${b.dir}/p.pcap`,
    "--report",
    out,
  ]);
  assertEquals(r.code, 0, r.stderr);
  const report = JSON.parse(await Deno.readTextFile(out)) as { problems: ProblemEntry[] };
  const kinds = report.problems.filter((p) => p.where === key).map((p) => p.kind);
  // Which damage the inflater notices first is its business; a gzip failure must be among them.
  const kind = kinds.find((k) => k === "bad_gzip");
  assert(kind !== undefined, `no gzip problem for ${key}: ${JSON.stringify(report.problems)}`);
  await assertHandled(b, key, kind);
});

bucketTest("stitcher: a gzip cut in half is reported", async (b) => {
  const t = await target(b);
  await Deno.remove(`${b.bucket}/${t.key}`);
  const key = t.key + ".gz";
  const gz = await gzipBytes(t.bytes);
  await writeObject(b, key, gz.subarray(0, Math.floor(gz.length / 2)));
  await assertHandled(b, key, "bad_gzip");
});

bucketTest("stitcher: several kinds of damage in one run are each listed", async (b) => {
  // Truncate one BAD object, flip a byte in another, and add an empty and a
  // wrongly named one: every damage is listed with its own key.
  const [k0, k1] = b.badKeys;
  const o0 = await Deno.readFile(`${b.bucket}/${k0}`);
  const r0 = records(o0);
  await Deno.writeFile(`${b.bucket}/${k0}`, o0.subarray(0, r0[r0.length - 1].off + 3));
  const o1 = (await Deno.readFile(`${b.bucket}/${k1}`)).slice();
  const r1 = records(o1);
  o1[r1[0].off + 12] ^= 1;
  await Deno.writeFile(`${b.bucket}/${k1}`, o1);
  const p0 = parseObjectKey(k0)!;
  const emptyKey = formatObjectKey({
    kind: "data",
    origin: "BAD",
    startMs: p0.startMs,
    endMs: p0.endMs,
    writer: "empty",
    seq: 7,
  });
  await writeObject(b, emptyKey, new Uint8Array(0));
  const badName = "data/BAD/README.txt";
  await writeObject(b, badName, new TextEncoder().encode("not an object\n"));
  const rp = `${b.dir}/r.json`;
  const out = `${b.dir}/o.pcap`;
  const r = await runBin(["--provider", "file", "-b", b.bucket, "-e", out, "--report", rp]);
  assertEquals(r.code, 0, r.stderr);
  const report = JSON.parse(await Deno.readTextFile(rp)) as { problems: ProblemEntry[] };
  const has = (where: string, kind: string) =>
    assert(
      report.problems.some((p) => p.where === where && p.kind === kind),
      `missing {${where}, ${kind}} in ${JSON.stringify(report.problems)}`,
    );
  has(k0, "truncated");
  has(k1, "bad_crc");
  has(emptyKey, "truncated");
  has(badName, "bad_name");
  await assertGoodIntact(out);
  assertEquals(await malformedCount(out), 0);
});

// ---------------------------------------------------------------- pack

/** Offsets of the records of a classic pcap (24-byte header, 16-byte record headers). */
function pcapRecords(buf: Uint8Array): number[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  assertEquals(dv.getUint32(0, true), 0xa1b2c3d4, "little-endian microsecond pcap");
  const out: number[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    out.push(off);
    off += 16 + dv.getUint32(off + 8, true);
  }
  return out;
}

Deno.test({
  name:
    "pack: a pcap record with a hostile captured length is reported; packets before it are packed",
  ignore,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stitcher_bad_pcap_" });
    try {
      const orig = await Deno.readFile(GOOD_PCAP);
      const recs = pcapRecords(orig);
      const cut = Math.floor(recs.length / 2);
      const hostile = orig.slice();
      new DataView(hostile.buffer).setUint32(recs[cut] + 8, MAX_BODY + 1, true);
      const hostilePath = `${dir}/hostile.pcap`;
      await Deno.writeFile(hostilePath, hostile);
      // What tshark sees in the packets before the hostile record.
      const prefixPath = `${dir}/prefix.pcap`;
      await Deno.writeFile(prefixPath, orig.subarray(0, recs[cut]));

      const bucket = `${dir}/bucket`;
      const rep = await packWithReport(hostilePath, bucket, `${dir}/pack.json`);
      const p = rep.problems.find((x) => x.where === hostilePath && x.kind === "hostile_length");
      assert(p !== undefined, `pack report: ${JSON.stringify(rep.problems)}`);
      assertEquals(p.offset, recs[cut], "offset of the hostile record");
      assertEquals(rep.packets, cut, "every packet before the hostile record was read");

      const out = `${dir}/out.pcap`;
      const s = await runBin(["--provider", "file", "-b", bucket, "-e", out, "--strict"]);
      assertEquals(s.code, 0, s.stderr);
      const want = await tcpStreams(prefixPath);
      const got = await tcpStreams(out);
      assert(want.size >= 1);
      for (const [k, w] of want) {
        const g = got.get(k);
        assert(g !== undefined, `connection ${k} missing`);
        assert(equalBytes(g.client, w.client), `${k} client bytes differ`);
        assert(equalBytes(g.server, w.server), `${k} server bytes differ`);
      }
      assertEquals(await malformedCount(out), 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "pack: a truncated pcap is reported truncated and its whole packets are packed",
  ignore,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stitcher_bad_pcap_" });
    try {
      const orig = await Deno.readFile(GOOD_PCAP);
      const recs = pcapRecords(orig);
      const cut = Math.floor(recs.length / 3);
      const path = `${dir}/cut.pcap`;
      await Deno.writeFile(path, orig.subarray(0, recs[cut] + 30));
      const bucket = `${dir}/bucket`;
      const rep = await packWithReport(path, bucket, `${dir}/pack.json`);
      assert(
        rep.problems.some((x) => x.where === path && x.kind === "truncated"),
        JSON.stringify(rep.problems),
      );
      assertEquals(rep.packets, cut);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "pack: a file that is not a capture exits non-zero or reports bad_magic, in one line",
  ignore,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stitcher_bad_pcap_" });
    try {
      const path = `${dir}/junk.pcap`;
      await Deno.writeFile(path, noise(4096, 99));
      const rp = `${dir}/pack.json`;
      const r = await runBin([
        "pack",
        "--pcap",
        path,
        "--origin",
        "X",
        "--provider",
        "file",
        "-b",
        `${dir}/bucket`,
        "--report",
        rp,
      ]);
      assert(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
      if (r.code === 0) {
        const rep = JSON.parse(await Deno.readTextFile(rp)) as { problems: ProblemEntry[] };
        assert(
          rep.problems.some((x) => x.where === path && x.kind === "bad_magic"),
          JSON.stringify(rep.problems),
        );
      }
      assert(!r.stderr.includes("    at "), `no stack trace:\n${r.stderr}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
