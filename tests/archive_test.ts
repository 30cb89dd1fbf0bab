/**
 * Plain capture archives (`--input-format pcap`, spec ctap-v1 §4), end to
 * end through the compiled binary, on the buckets of rotated tcpdump files
 * in tests/fixtures/archive/ (see its README): every TCP connection of the
 * output carries exactly the bytes tshark follows in the mergecap'd
 * originals, connections that cross file boundaries included; with
 * `--with-decrypted` the TLS ones carry what tshark decrypts with the key
 * log, from keys/ objects or from a pcapng Decryption Secrets Block alone;
 * a garbage capture file is reported and skipped.
 */
import { assert, assertBytesEqual, assertEquals } from "./assert.ts";
import { ensureBinary, ROOT, runBin } from "./lib/bin.ts";
import {
  hasTool,
  malformedCount,
  type StreamBytes,
  tcpStreams,
  tlsPlaintext,
  tsharkFields,
} from "./lib/oracle.ts";

const ARCHIVE = `${ROOT}/tests/fixtures/archive`;
const KEYS = `${ARCHIVE}/time/keys/curl.keys`;
const ignore = !hasTool("tshark") || !hasTool("mergecap");

interface Report {
  objects: {
    listed: number;
    read: number;
    damaged: number;
    skipped: Record<string, number>;
  };
  flows: { opened: number };
  gaps: { count: number };
  keys: { objects: number; entries: number };
  decryption: Record<string, number>;
  errors: Record<string, number>;
  problems: { where: string; kind: string; detail: string }[];
}

/** The capture files of a bucket folder, recursively, sorted. */
function captureFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (/\.pcap(ng)?(\.gz)?$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** `mergecap -w DIR/all-NAME.pcap` of every capture of a fixture bucket (mergecap reads .gz). */
async function mergedOriginal(name: string, dir: string): Promise<string> {
  const out = `${dir}/all-${name}.pcap`;
  const r = await new Deno.Command("mergecap", {
    args: ["-F", "pcap", "-w", out, ...captureFiles(`${ARCHIVE}/${name}`)],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert(r.success, `mergecap: ${new TextDecoder().decode(r.stderr)}`);
  return out;
}

async function stitch(
  bucket: string,
  out: string,
  args: string[],
  expectCode = 0,
): Promise<{ report: Report; stderr: string }> {
  const r = await runBin([
    "--provider",
    "file",
    "-b",
    bucket,
    "--input-format",
    "pcap",
    "-e",
    out,
    "--report",
    `${out}.json`,
    "-q",
    ...args,
  ]);
  assertEquals(r.code, expectCode, `stitch ${args.join(" ")}: exit code; stderr:\n${r.stderr}`);
  return { report: JSON.parse(await Deno.readTextFile(`${out}.json`)), stderr: r.stderr };
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  await ensureBinary();
  const dir = await Deno.makeTempDir({ prefix: "stitcher_archive_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertSameStreams(
  got: Map<string, StreamBytes>,
  want: Map<string, StreamBytes>,
  what: string,
): void {
  assertEquals([...got.keys()].sort(), [...want.keys()].sort(), `${what}: the same connections`);
  for (const [k, w] of want) {
    const g = got.get(k)!;
    assertBytesEqual(g.client, w.client, `${what} ${k} client to server:`);
    assertBytesEqual(g.server, w.server, `${what} ${k} server to client:`);
  }
}

/**
 * The decrypted output: each TLS connection carries tshark's decryption of
 * the original, each plain one its original bytes.
 */
async function assertDecrypted(out: string, original: string): Promise<number> {
  const [got, tcp, tls] = await Promise.all([
    tcpStreams(out),
    tcpStreams(original),
    tlsPlaintext(original, KEYS),
  ]);
  assertEquals([...got.keys()].sort(), [...tcp.keys()].sort(), "the same connections");
  let decrypted = 0;
  for (const [k, w] of tcp) {
    const t = tls.get(k);
    const want = t !== undefined ? t : w;
    if (t !== undefined) {
      assert(t.client.length > 0 && t.server.length > 0, `tshark decrypts nothing of ${k}`);
      decrypted++;
    }
    assertBytesEqual(got.get(k)!.client, want.client, `${k} client to server:`);
    assertBytesEqual(got.get(k)!.server, want.server, `${k} server to client:`);
  }
  return decrypted;
}

/** Connections (by client port) whose packets are in more than one file. */
async function crossingConnections(files: string[]): Promise<number> {
  const seen = new Map<string, number>();
  for (const f of files) {
    const rows = await tsharkFields(f, ["tcp.srcport", "tcp.dstport"], "tcp");
    const conns = new Set(rows.map(([a, b]) => [a, b].sort().join("-")));
    for (const c of conns) seen.set(c, (seen.get(c) ?? 0) + 1);
  }
  return [...seen.values()].filter((n) => n > 1).length;
}

for (const name of ["time", "size"]) {
  Deno.test({
    name: `--input-format pcap: ${name}-rotated captures give every connection byte for byte`,
    ignore,
    async fn() {
      await withTemp(async (dir) => {
        const files = captureFiles(`${ARCHIVE}/${name}`);
        assert(files.length >= 3, `${name}: ${files.length} files`);
        assert(await crossingConnections(files) >= 2, "connections cross file boundaries");
        const original = await mergedOriginal(name, dir);
        const { report } = await stitch(`${ARCHIVE}/${name}`, `${dir}/out.pcap`, ["--strict"]);
        const [got, want] = await Promise.all([
          tcpStreams(`${dir}/out.pcap`),
          tcpStreams(original),
        ]);
        assertSameStreams(got, want, name);
        assertEquals(report.flows.opened, want.size);
        assertEquals(report.objects.read, files.length);
        assertEquals(report.gaps.count, 0);
        assertEquals(report.objects.skipped, { keylog_unused: 1 });
        assertEquals(await malformedCount(`${dir}/out.pcap`), 0);
      });
    },
  });

  Deno.test({
    name: `--input-format pcap --with-decrypted: ${name}-rotated TLS decrypts with keys/ objects`,
    ignore,
    async fn() {
      await withTemp(async (dir) => {
        const original = await mergedOriginal(name, dir);
        const { report } = await stitch(`${ARCHIVE}/${name}`, `${dir}/out.pcap`, [
          "--with-decrypted",
          "--strict",
        ]);
        assertEquals(report.keys.objects, 1);
        const n = await assertDecrypted(`${dir}/out.pcap`, original);
        assertEquals(n, 3, "TLS connections");
        assertEquals(report.decryption.decrypted, 3);
      });
    },
  });
}

Deno.test({
  name: "--input-format pcap --with-decrypted: pcapng Decryption Secrets Block alone decrypts",
  ignore,
  async fn() {
    await withTemp(async (dir) => {
      const original = await mergedOriginal("time", dir);
      const { report } = await stitch(`${ARCHIVE}/dsb`, `${dir}/out.pcap`, [
        "--with-decrypted",
        "--strict",
      ]);
      assertEquals(report.keys.objects, 0);
      assert(report.keys.entries > 0, "keys from the DSB");
      assertEquals(await assertDecrypted(`${dir}/out.pcap`, original), 3);
      assertEquals(report.decryption.decrypted, 3);
    });
  },
});

Deno.test({
  name: "--input-format pcap: a garbage .pcap and other objects are reported and skipped",
  ignore,
  async fn() {
    await withTemp(async (dir) => {
      const bucket = `${dir}/bucket`;
      const data = `${bucket}/data/host1`;
      await Deno.mkdir(data, { recursive: true });
      await Deno.mkdir(`${bucket}/keys`, { recursive: true });
      for (const f of captureFiles(`${ARCHIVE}/time`)) {
        await Deno.copyFile(f, `${data}/${f.slice(f.lastIndexOf("/") + 1)}`);
      }
      await Deno.copyFile(KEYS, `${bucket}/keys/a.txt`);
      const garbage = new Uint8Array(5000).map((_, i) => (i * 7919) & 0xff);
      await Deno.writeFile(`${data}/garbage.pcap`, garbage);
      await Deno.writeFile(
        `${data}/cut.pcap`,
        (await Deno.readFile(captureFiles(`${ARCHIVE}/size`)[0])).subarray(0, 20),
      );
      await Deno.writeTextFile(`${bucket}/notes.md`, "not a capture\n");

      const { report } = await stitch(bucket, `${dir}/out.pcap`, ["--with-decrypted"]);
      const bad = report.problems.filter((p) => p.where === "data/host1/garbage.pcap");
      assertEquals(bad.map((p) => p.kind), ["bad_magic"]);
      const cut = report.problems.filter((p) => p.where === "data/host1/cut.pcap");
      assertEquals(cut.map((p) => p.kind), ["truncated"]);
      assertEquals(report.objects.damaged, 2);
      assertEquals(report.objects.skipped, { not_capture: 1 });
      assertEquals(report.keys.objects, 1);
      const original = await mergedOriginal("time", dir);
      assertEquals(await assertDecrypted(`${dir}/out.pcap`, original), 3);

      await stitch(bucket, `${dir}/strict.pcap`, ["--strict"], 1);
    });
  },
});

Deno.test({
  name: "--input-format: an unknown value, or --origin-filter with pcap, is a usage error",
  async fn() {
    const bad = await runBin([
      "--provider",
      "file",
      "-b",
      ARCHIVE,
      "--input-format",
      "csv",
      "-e",
      "-",
    ]);
    assertEquals(bad.code, 2);
    assert(bad.stderr.includes("--input-format: 'csv'"), bad.stderr);
    const glob = await runBin([
      "--provider",
      "file",
      "-b",
      `${ARCHIVE}/time`,
      "--input-format",
      "pcap",
      "--origin-filter",
      "US-*",
      "-e",
      "-",
    ]);
    assertEquals(glob.code, 2);
    assert(glob.stderr.includes("--origin-filter"), glob.stderr);
  },
});
