/**
 * TLS decryption acceptance, end to end through the compiled binary: every
 * TLS capture fixture (tests/fixtures/captures/ and every
 * tests/fixtures/tls/*.pcap present when this file runs) is packed into a
 * bucket (3 writers, split directions, 1 s objects, keys stored 2 s after
 * their ClientHello) and stitched with `--with-decrypted`. Ground truth is
 * the python server's transcript of each connection (not from tshark, not
 * from us); tshark, decrypting the ORIGINAL capture with its key log, is the
 * second, independent oracle. Then: both cipher backends agree byte for
 * byte; HTTP consumers (tshark's HTTP analysis and object export, tcpflow)
 * read the decrypted output; --key-wait, --undecryptable drop, transparent
 * mode (pcapng Decryption Secrets Block), bad key logs, a gap in a TLS
 * stream, and a separate keys bucket.
 */
import { assertTranscriptDir, b64, sha256hex, type TranscriptEntry } from "./lib/transcript.ts";
import { assert, assertBytesEqual, assertEquals, assertMatch } from "./assert.ts";
import { BIN, ensureBinary, ROOT, runBin } from "./lib/bin.ts";
import {
  endpoint,
  hasTool,
  malformedCount,
  splitEndpoint,
  type StreamBytes,
  tcpStreams,
  tlsPlaintext,
  tshark,
  tsharkFields,
} from "./lib/oracle.ts";
import { crc32c } from "../core/bytes/crc32c.ts";

const CAPS = `${ROOT}/tests/fixtures/captures`;
const TLS_DIR = `${ROOT}/tests/fixtures/tls`;
const ORIGIN = "US-NYC1";
const PACK_LAYOUT = ["--writers", "3", "--split-directions", "--window", "1", "--key-delay", "2"];
const ignore = !hasTool("tshark");

interface Fixture {
  name: string;
  pcap: string;
  keys: string;
  transcript: string;
}

/** The TLS fixtures: the TLS captures of captures/ and every tls/*.pcap with keys and transcript. */
function fixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (const name of ["tls12_v4", "tls13_v6", "concurrent_25", "retrans"]) {
    out.push(fixture(CAPS, name));
  }
  let names: string[] = [];
  try {
    names = [...Deno.readDirSync(TLS_DIR)]
      .filter((e) => e.isFile && e.name.endsWith(".pcap"))
      .map((e) => e.name.slice(0, -5))
      .sort();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (const name of names) {
    const f = fixture(TLS_DIR, name);
    try {
      Deno.statSync(f.keys);
      Deno.statSync(f.transcript);
    } catch {
      continue; // a fixture still being made
    }
    out.push(f);
  }
  return out;
}

function fixture(dir: string, name: string): Fixture {
  return {
    name,
    pcap: `${dir}/${name}.pcap`,
    keys: `${dir}/${name}.keys`,
    transcript: `${dir}/${name}.transcript.json`,
  };
}

const FIXTURES = fixtures();
const byName = (name: string): Fixture => {
  const f = FIXTURES.find((x) => x.name === name);
  if (!f) throw new Error(`no fixture ${name}`);
  return f;
};

// ---------------------------------------------------------------- ground truth

async function transcript(f: Fixture): Promise<TranscriptEntry[]> {
  return JSON.parse(await Deno.readTextFile(f.transcript));
}

/** Original-capture oracles, computed once per fixture. */
const origTcp = new Map<string, Promise<Map<string, StreamBytes>>>();
const origTls = new Map<string, Promise<Map<string, StreamBytes>>>();
function originalTcp(f: Fixture): Promise<Map<string, StreamBytes>> {
  let p = origTcp.get(f.name);
  if (!p) origTcp.set(f.name, p = tcpStreams(f.pcap));
  return p;
}
function originalTls(f: Fixture): Promise<Map<string, StreamBytes>> {
  let p = origTls.get(f.name);
  if (!p) origTls.set(f.name, p = tlsPlaintext(f.pcap, f.keys));
  return p;
}

/** The stream of `streams` whose client is (ip, clientPort) and whose server port is `serverPort`. */
function findStream(
  streams: Map<string, StreamBytes>,
  clientIp: string,
  clientPort: number,
  serverPort: number,
): StreamBytes | undefined {
  const client = endpoint(clientIp, clientPort);
  for (const s of streams.values()) {
    if (s.clientAddr === client && splitEndpoint(s.serverAddr)[1] === String(serverPort)) return s;
  }
  return undefined;
}

/** Transcript entries split by tshark's view of the original: TLS or plain TCP. */
async function classify(
  f: Fixture,
): Promise<{ tls: TranscriptEntry[]; plain: TranscriptEntry[]; all: TranscriptEntry[] }> {
  const all = await transcript(f);
  const tlsStreams = await originalTls(f);
  const tls: TranscriptEntry[] = [], plain: TranscriptEntry[] = [];
  for (const e of all) {
    const isTls = findStream(tlsStreams, e.client_ip, e.client_port, e.server_port) !== undefined;
    (isTls ? tls : plain).push(e);
  }
  return { tls, plain, all };
}

// ---------------------------------------------------------------- running

async function pack(f: Fixture, bucket: string, args: string[], keys: string | null = f.keys) {
  const r = await runBin([
    "pack",
    "--pcap",
    f.pcap,
    ...(keys ? ["--keylog", keys] : []),
    "--origin",
    ORIGIN,
    "--provider",
    "file",
    "-b",
    bucket,
    "-q",
    ...args,
  ]);
  assertEquals(r.code, 0, `pack ${f.name}: ${r.stderr}`);
}

interface Stitched {
  out: string;
  report: Report;
  reportText: string;
  stderr: string;
  code: number;
}

interface Report {
  decryption: Record<string, number>;
  keys: { objects: number; entries: number; malformed: number; unknownLabels: number };
  errors: Record<string, number>;
  gaps: { count: number; bytes: number };
  problems: { where: string; kind: string; detail: string }[];
}

async function stitch(
  dir: string,
  bucket: string,
  out: string,
  args: string[],
  expectCode = 0,
): Promise<Stitched> {
  const reportPath = `${out}.report.json`;
  const r = await runBin([
    "--provider",
    "file",
    "-b",
    bucket,
    "-e",
    out,
    "--report",
    reportPath,
    "-q",
    ...args,
  ], { cwd: dir });
  assertEquals(r.code, expectCode, `stitch ${args.join(" ")}: exit code; stderr:\n${r.stderr}`);
  const reportText = await Deno.readTextFile(reportPath);
  return { out, report: JSON.parse(reportText), reportText, stderr: r.stderr, code: r.code };
}

const dec = (r: Report, k: string): number => r.decryption?.[k] ?? 0;
/** Decryption counters whose name starts with one of `prefixes`, non-zero only. */
const decMatching = (r: Report, ...prefixes: string[]): Record<string, number> =>
  Object.fromEntries(
    Object.entries(r.decryption ?? {}).filter(([k, v]) =>
      v !== 0 && prefixes.some((p) => k.startsWith(p))
    ),
  );

async function withTemp(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  await ensureBinary();
  const dir = await Deno.makeTempDir({ prefix: `stitcher_tls_e2e_${prefix}_` });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function portMapOf(spec: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const p of spec.split(",").filter(Boolean)) {
    const [a, b] = p.split(":").map(Number);
    m.set(a, b);
  }
  return m;
}

/**
 * The decrypted output `out` of fixture `f`: every TLS connection carries
 * exactly the transcript's plaintext (and tshark's decryption of the
 * original), under its server port remapped by `portMap`; every plain
 * connection carries the original TCP bytes; no other connection exists.
 */
async function assertDecryptedOutput(
  f: Fixture,
  out: string,
  portMap: Map<number, number> = new Map(),
): Promise<void> {
  const { tls, plain, all } = await classify(f);
  const [got, origPlain, origTcpStreams] = await Promise.all([
    tcpStreams(out),
    originalTls(f),
    plain.length > 0 ? originalTcp(f) : Promise.resolve(new Map<string, StreamBytes>()),
  ]);
  assertEquals(got.size, all.length, `${f.name}: connections in the output`);
  for (const e of tls) {
    const port = portMap.get(e.server_port) ?? e.server_port;
    const what = `${f.name} TLS ${endpoint(e.client_ip, e.client_port)} (server port ${port})`;
    const g = findStream(got, e.client_ip, e.client_port, port);
    assert(g !== undefined, `${what}: missing from the output; has ${[...got.keys()]}`);
    await assertTranscriptDir(
      g.client,
      e.client_to_server_len,
      e.client_to_server_sha256,
      e.client_to_server_b64,
      `${what} client to server`,
    );
    await assertTranscriptDir(
      g.server,
      e.server_to_client_len,
      e.server_to_client_sha256,
      e.server_to_client_b64,
      `${what} server to client`,
    );
    const t = findStream(origPlain, e.client_ip, e.client_port, e.server_port)!;
    assertBytesEqual(g.client, t.client, `${what} client to server vs tshark:`);
    assertBytesEqual(g.server, t.server, `${what} server to client vs tshark:`);
  }
  for (const e of plain) {
    const what = `${f.name} plain ${endpoint(e.client_ip, e.client_port)}`;
    const g = findStream(got, e.client_ip, e.client_port, e.server_port);
    assert(g !== undefined, `${what}: missing from the output`);
    const o = findStream(origTcpStreams, e.client_ip, e.client_port, e.server_port)!;
    assertBytesEqual(g.client, o.client, `${what} client to server:`);
    assertBytesEqual(g.server, o.server, `${what} server to client:`);
  }
}

/** Every connection of `out` carries exactly the original capture's TCP bytes (no decryption). */
async function assertOriginalOutput(f: Fixture, out: string): Promise<void> {
  const [got, want] = await Promise.all([tcpStreams(out), originalTcp(f)]);
  assertEquals([...got.keys()].sort(), [...want.keys()].sort(), `${f.name}: the same connections`);
  for (const [k, w] of want) {
    const g = got.get(k)!;
    assertBytesEqual(g.client, w.client, `${f.name} ${k} client to server:`);
    assertBytesEqual(g.server, w.server, `${f.name} ${k} server to client:`);
  }
}

/** Frames of `out` that tshark dissects as TLS records. */
async function tlsFrames(out: string): Promise<string[][]> {
  return await tsharkFields(out, ["frame.number", "tcp.stream", "tls.record.content_type"], "tls");
}

/** Every secret of a key log (the last field of each entry line), lower-case hex. */
async function secretsOf(keylog: string): Promise<string[]> {
  const out: string[] = [];
  for (const line of (await Deno.readTextFile(keylog)).split("\n")) {
    const p = line.trim().split(/\s+/);
    if (p.length === 3 && !line.startsWith("#")) out.push(p[2].toLowerCase());
  }
  return out;
}

function assertNoSecrets(text: string, secrets: string[], what: string): void {
  const lower = text.toLowerCase();
  for (const s of secrets) {
    assert(!lower.includes(s.slice(0, 32)), `${what} contains (part of) a key-log secret`);
  }
}

// ---------------------------------------------------------------- 1. every fixture decrypts

for (const f of FIXTURES) {
  Deno.test({
    name:
      `--with-decrypted: ${f.name}.pcap decrypts to the transcript's plaintext, plain flows intact`,
    ignore,
    async fn() {
      await withTemp("all", async (dir) => {
        const bucket = `${dir}/bucket`;
        await pack(f, bucket, PACK_LAYOUT);
        const s = await stitch(dir, bucket, `${dir}/out.pcap`, ["--with-decrypted"]);
        const { tls, plain } = await classify(f);
        assert(tls.length > 0, `${f.name}: tshark finds TLS connections in the original`);
        const [, malformed, tlsLeft] = await Promise.all([
          assertDecryptedOutput(f, s.out),
          malformedCount(s.out),
          tlsFrames(s.out),
        ]);
        assertEquals(dec(s.report, "decrypted"), tls.length, `decrypted: ${s.reportText}`);
        assertEquals(dec(s.report, "tls_flows"), tls.length, "tls_flows");
        assertEquals(dec(s.report, "not_tls"), plain.length, "not_tls");
        assertEquals(
          decMatching(s.report, "undecryptable_", "failed_after_start_", "dropped"),
          {},
          "no flow undecryptable, failed or dropped",
        );
        assertEquals(s.report.gaps.count, 0, "gaps");
        assertEquals(malformed, 0, "tshark: malformed or error frames in the decrypted output");
        assertEquals(tlsLeft, [], "TLS records left in the decrypted output");
      });
    },
  });
}

// ---------------------------------------------------------------- 2. both backends agree

Deno.test({
  name:
    "--crypto node and --crypto noble write the same decrypted pcap, byte for byte, as native (libcrypto)",
  ignore,
  async fn() {
    await withTemp("noble", async (dir) => {
      // Binary runs only (no tshark): cheap enough for every fixture, two at a time.
      const one = async (f: Fixture) => {
        const bucket = `${dir}/${f.name}`;
        await pack(f, bucket, PACK_LAYOUT);
        const [native, node, noble] = await Promise.all(
          ["native", "node", "noble"].map((c) =>
            stitch(dir, bucket, `${dir}/${f.name}.${c}.pcap`, ["--with-decrypted", "--crypto", c])
          ),
        );
        const { tls } = await classify(f);
        assertEquals(dec(native.report, "decrypted"), tls.length, `${f.name}: native decrypted`);
        const a = await Deno.readFile(native.out);
        for (const other of [node, noble]) {
          assertEquals(other.report.decryption, native.report.decryption, `${f.name}: counters`);
          assertBytesEqual(await Deno.readFile(other.out), a, `${f.name}: ${other.out} vs native`);
        }
        await Deno.remove(bucket, { recursive: true });
      };
      const queue = [...FIXTURES];
      await Promise.all([0, 1].map(async () => {
        for (let f = queue.shift(); f !== undefined; f = queue.shift()) await one(f);
      }));
      // and tshark agrees the noble output is right, for the two named captures
      for (const name of ["tls12_v4", "tls13_v6"]) {
        await assertDecryptedOutput(byName(name), `${dir}/${name}.noble.pcap`);
      }
    });
  },
});

Deno.test({
  name:
    "the binary opens records with the system's libcrypto by default, one native call a record, and says so",
  ignore,
  async fn() {
    await withTemp("backend", async (dir) => {
      const f = byName("tls13_v6");
      await pack(f, `${dir}/b`, PACK_LAYOUT);
      for (
        const [crypto, want] of [
          [[], /cipher="openssl \(libcrypto\.so[.0-9]*, one call an open\) \+ node:crypto"/],
          [["--crypto", "node"], /cipher=node:crypto/],
        ] as const
      ) {
        const r = await runBin([
          "--provider",
          "file",
          "-b",
          `${dir}/b`,
          "-e",
          `${dir}/out.pcap`,
          "--with-decrypted",
          ...crypto,
        ]);
        assertEquals(r.code, 0, r.stderr);
        assertMatch(r.stderr, want);
      }
    });
  },
});

/** libcrypto files the dynamic loader could find (Debian keeps them in the multiarch folder). */
async function libcryptoFiles(): Promise<string[]> {
  const found: string[] = [];
  for (const dir of ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib", "/lib"]) {
    try {
      for await (const e of Deno.readDir(dir)) {
        if (/^libcrypto\.so/.test(e.name)) found.push(`${dir}/${e.name}`);
      }
    } catch {
      // no such folder
    }
  }
  return found;
}

Deno.test({
  name:
    "without a loadable libcrypto the binary falls back to node:crypto and writes the same pcap",
  // A private mount namespace (unshare -m, root only) hides libcrypto from this one run.
  ignore: ignore || Deno.uid() !== 0 || !hasTool("unshare"),
  async fn() {
    await withTemp("nolib", async (dir) => {
      const f = byName("tls12_v4");
      await pack(f, `${dir}/b`, PACK_LAYOUT);
      const args = ["--provider", "file", "-b", `${dir}/b`, "--with-decrypted", "-e"];
      const withLib = await runBin([...args, `${dir}/lib.pcap`]);
      assertEquals(withLib.code, 0, withLib.stderr);
      assertMatch(withLib.stderr, /cipher="openssl/);
      const hide = (await libcryptoFiles()).map((x) => `mount --bind /dev/null ${x}`);
      assert(hide.length > 0, "no libcrypto found to hide");
      const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;
      const script = [...hide, [BIN, ...args, `${dir}/nolib.pcap`].map(quote).join(" ")].join(
        " && ",
      );
      const out = await new Deno.Command("unshare", {
        args: ["-m", "sh", "-c", script],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, stderr);
      assertMatch(stderr, /cipher=node:crypto/);
      assertMatch(stderr, /3 of 3 TLS flows decrypted/);
      assertBytesEqual(
        await Deno.readFile(`${dir}/nolib.pcap`),
        await Deno.readFile(`${dir}/lib.pcap`),
      );
    });
  },
});

// ---------------------------------------------------------------- 3. HTTP consumers

interface HttpRequest {
  method: string;
  uri: string;
}

/** The HTTP/1.1 requests in a client-to-server byte stream (Content-Length bodies skipped). */
function parseRequests(bytes: Uint8Array): HttpRequest[] {
  const text = new TextDecoder("latin1").decode(bytes);
  const out: HttpRequest[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf("\r\n\r\n", at);
    assert(end >= 0, `unterminated HTTP request head at ${at}`);
    const head = text.slice(at, end).split("\r\n");
    const [method, uri] = head[0].split(" ");
    out.push({ method, uri });
    const cl = head.find((h) => /^content-length:/i.test(h));
    at = end + 4 + (cl ? Number(cl.split(":")[1].trim()) : 0);
  }
  return out;
}

const sortReq = (r: HttpRequest[]) => r.map((x) => `${x.method} ${x.uri}`).sort();

/** The transcript's requests; every client-to-server direction must have its bytes kept. */
function transcriptRequests(entries: TranscriptEntry[]): HttpRequest[] {
  return entries.flatMap((e) => {
    assert(e.client_to_server_b64 !== null, `transcript keeps the requests of ${e.client_port}`);
    return parseRequests(b64(e.client_to_server_b64));
  });
}

/** sha256 of `random.Random(f"{seed}:{n}").randbytes(n)` (tools/txserver.py), by python. */
async function pythonBodies(reqs: { n: number; seed: string }[]): Promise<string[]> {
  const script = [
    "import hashlib, json, random, sys",
    "for r in json.load(sys.stdin):",
    "    print(hashlib.sha256(random.Random(f\"{r['seed']}:{r['n']}\").randbytes(r['n'])).hexdigest())",
  ].join("\n");
  const child = new Deno.Command("python3", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(reqs)));
  await w.close();
  const o = await child.output();
  assert(o.success, `python3 failed: ${new TextDecoder().decode(o.stderr)}`);
  return new TextDecoder().decode(o.stdout).trim().split("\n");
}

async function filesSha(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) out.push(await sha256hex(await Deno.readFile(`${dir}/${e.name}`)));
  }
  return out.sort();
}

/** tcpflow's file name for one direction: `127.000.000.001.33806-127.000.000.001.08080`. */
function tcpflowName(srcIp: string, srcPort: number, dstIp: string, dstPort: number): string {
  const ip4 = (ip: string) => ip.split(".").map((o) => o.padStart(3, "0")).join(".");
  const p = (n: number) => String(n).padStart(5, "0");
  return `${ip4(srcIp)}.${p(srcPort)}-${ip4(dstIp)}.${p(dstPort)}`;
}

Deno.test({
  // Suricata (the sensor this stands in for) is not installable here: no
  // Debian package in the mirror, no registry; tshark's HTTP dissector and
  // object export and tcpflow are the HTTP consumers instead.
  name:
    "decrypted concurrent_25 with --decrypted-port-map: tshark HTTP and tcpflow see every request and body",
  ignore: ignore || !hasTool("tcpflow"),
  async fn() {
    await withTemp("http", async (dir) => {
      const f = byName("concurrent_25");
      const bucket = `${dir}/bucket`;
      const spec = "443:80,8443:8080";
      await pack(f, bucket, PACK_LAYOUT);
      const s = await stitch(dir, bucket, `${dir}/out.pcap`, [
        "--with-decrypted",
        "--decrypted-port-map",
        spec,
      ]);
      const { tls, all } = await classify(f);
      assertEquals(dec(s.report, "decrypted"), tls.length);
      assertEquals(tls.length, 13, "concurrent_25 has 13 TLS connections");
      // every connection of the output is on port 8080 now
      await assertDecryptedOutput(f, s.out, portMapOf(spec));

      const want = transcriptRequests(all);
      assertEquals(want.length, 25);
      const reqRows = await tsharkFields(
        s.out,
        ["http.request.method", "http.request.uri", "tcp.dstport"],
        "http.request",
      );
      assertEquals(
        sortReq(reqRows.map((r) => ({ method: r[0], uri: r[1] }))),
        sortReq(want),
        "tshark: the HTTP requests",
      );
      assert(reqRows.every((r) => r[2] === "8080"), "every request goes to port 8080");
      const respRows = await tsharkFields(s.out, ["http.response.code"], "http.response");
      // GET /data/N always answers 200 (the transcript keeps no response heads over 8 KiB)
      assertEquals(respRows.map((r) => r[0]), want.map(() => "200"), "tshark: the HTTP statuses");

      // response bodies: tshark's object export of our output vs python's generator
      // (tools/txserver.py) and vs tshark's export of the original capture with its keys
      const objOut = `${dir}/objects_out`, objOrig = `${dir}/objects_orig`;
      await tshark(["-r", s.out, "-n", "-q", "--export-objects", `http,${objOut}`]);
      await tshark([
        "-r",
        f.pcap,
        "-n",
        "-q",
        "-o",
        `tls.keylog_file:${f.keys}`,
        "--export-objects",
        `http,${objOrig}`,
      ]);
      const gotBodies = await filesSha(objOut);
      assertEquals(gotBodies.length, 25, "tshark exported 25 HTTP objects");
      assertEquals(gotBodies, await filesSha(objOrig), "bodies == tshark's export of the original");
      if (hasTool("python3")) {
        const gen = want.map((r) => {
          const m = /^\/data\/(\d+)\?seed=([^&]+)/.exec(r.uri);
          assert(m, `unexpected request ${r.uri}`);
          return { n: Number(m[1]), seed: m[2] };
        });
        assertEquals(gotBodies, (await pythonBodies(gen)).sort(), "bodies == the server's data");
      }

      // tcpflow: one file per direction; requests == transcript bytes, responses == its sha256
      const flowDir = `${dir}/tcpflow`;
      const tf = await new Deno.Command("tcpflow", {
        args: ["-r", s.out, "-o", flowDir],
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      }).output();
      assert(tf.success, `tcpflow failed: ${new TextDecoder().decode(tf.stderr)}`);
      for (const e of all) {
        const ip = e.client_ip;
        const c2s = await Deno.readFile(`${flowDir}/${tcpflowName(ip, e.client_port, ip, 8080)}`);
        const s2c = await Deno.readFile(`${flowDir}/${tcpflowName(ip, 8080, ip, e.client_port)}`);
        const what = `tcpflow ${e.client_port}`;
        assertMatchText(c2s, /^GET \/data\/\d+\?seed=c\d+&rate=100000 HTTP\/1\.1\r\n/, what);
        await assertTranscriptDir(
          c2s,
          e.client_to_server_len,
          e.client_to_server_sha256,
          e.client_to_server_b64,
          `${what} request`,
        );
        await assertTranscriptDir(
          s2c,
          e.server_to_client_len,
          e.server_to_client_sha256,
          e.server_to_client_b64,
          `${what} response`,
        );
      }
    });
  },
});

function assertMatchText(bytes: Uint8Array, re: RegExp, what: string): void {
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, 512));
  assert(re.test(text), `${what}: ${JSON.stringify(text.slice(0, 80))} does not match ${re}`);
}

// ---------------------------------------------------------------- 4. key wait, undecryptable drop

// concurrent_25 spans several 1 s objects; tls12_v4 lies in one (its last).
// Known bug when written: runStitch loads every keys object before releasing
// the last data window (core/run/stitch_run.ts loadKeysBefore(Infinity)), so
// --key-wait has no effect there and the result depends on object layout.
for (const name of ["concurrent_25", "tls12_v4"]) {
  Deno.test({
    name:
      `--key-wait (${name}): keys stored 5 s late miss a 1 s wait (pass through), meet a 10 s one`,
    ignore,
    async fn() {
      await withTemp("keywait", async (dir) => {
        const f = byName(name);
        const { tls } = await classify(f);
        const bucket = `${dir}/bucket`;
        await pack(f, bucket, [...PACK_LAYOUT.slice(0, -2), "--key-delay", "5"]);

        const short = await stitch(dir, bucket, `${dir}/short.pcap`, [
          "--with-decrypted",
          "--key-wait",
          "1",
        ]);
        assertEquals(
          dec(short.report, "undecryptable_no_key"),
          tls.length,
          `--key-wait 1: ${JSON.stringify(short.report.decryption)}`,
        );
        assertEquals(dec(short.report, "decrypted"), 0);
        assertEquals(dec(short.report, "dropped"), 0);
        await assertOriginalOutput(f, short.out);
        assertEquals(await malformedCount(short.out), 0);

        const long = await stitch(dir, bucket, `${dir}/long.pcap`, [
          "--with-decrypted",
          "--key-wait",
          "10",
        ]);
        assertEquals(dec(long.report, "decrypted"), tls.length, long.reportText);
        assertEquals(decMatching(long.report, "undecryptable_"), {});
        await assertDecryptedOutput(f, long.out);
      });
    },
  });
}

Deno.test({
  name: "--undecryptable drop without keys: TLS flows are absent, plain flows intact",
  ignore,
  async fn() {
    await withTemp("drop", async (dir) => {
      const f = byName("concurrent_25");
      const { tls, plain } = await classify(f);
      const bucket = `${dir}/bucket`;
      await pack(f, bucket, PACK_LAYOUT, null);
      const s = await stitch(dir, bucket, `${dir}/out.pcap`, [
        "--with-decrypted",
        "--undecryptable",
        "drop",
      ]);
      assertEquals(dec(s.report, "undecryptable_no_key"), tls.length, s.reportText);
      assertEquals(dec(s.report, "dropped"), tls.length);
      assertEquals(dec(s.report, "decrypted"), 0);
      const [got, orig] = await Promise.all([tcpStreams(s.out), originalTcp(f)]);
      assertEquals(got.size, plain.length, "only the plain connections are in the output");
      for (const e of plain) {
        const g = findStream(got, e.client_ip, e.client_port, e.server_port);
        const o = findStream(orig, e.client_ip, e.client_port, e.server_port)!;
        assert(g !== undefined, `plain ${e.client_port} missing`);
        assertBytesEqual(g.client, o.client, `plain ${e.client_port} client to server:`);
        assertBytesEqual(g.server, o.server, `plain ${e.client_port} server to client:`);
      }
      const ports = await tsharkFields(s.out, ["tcp.dstport"], "tcp.port == 8443");
      assertEquals(ports.length, 0, "no packet of a TLS flow (port 8443)");
      assertEquals(await malformedCount(s.out), 0);
    });
  },
});

// ---------------------------------------------------------------- 5. transparent mode

for (const name of ["tls12_v4", "tls13_v6"]) {
  Deno.test({
    name: `--transparent -e out.pcapng (${name}): tshark decrypts with the embedded secrets alone`,
    ignore,
    async fn() {
      await withTemp("transparent", async (dir) => {
        const f = byName(name);
        const { tls, all } = await classify(f);
        const bucket = `${dir}/bucket`;
        await pack(f, bucket, PACK_LAYOUT);
        const s = await stitch(dir, bucket, `${dir}/out.pcapng`, ["--transparent"]);
        assertEquals(dec(s.report, "secrets_exported"), tls.length, s.reportText);
        // the traffic is the original traffic
        await assertOriginalOutput(f, s.out);
        // no key file: only the pcapng Decryption Secrets Block
        const reqRows = await tsharkFields(
          s.out,
          ["http.request.method", "http.request.uri"],
          "http.request",
        );
        assertEquals(
          sortReq(reqRows.map((r) => ({ method: r[0], uri: r[1] }))),
          sortReq(transcriptRequests(all)),
          "tshark -Y http.request on out.pcapng without a key file",
        );
        const plain = await tlsPlaintext(s.out, "");
        for (const e of tls) {
          const g = findStream(plain, e.client_ip, e.client_port, e.server_port);
          assert(g !== undefined, `${e.client_port}: no TLS stream in out.pcapng`);
          await assertTranscriptDir(
            g.client,
            e.client_to_server_len,
            e.client_to_server_sha256,
            e.client_to_server_b64,
            `${e.client_port} client to server (tshark, DSB)`,
          );
          await assertTranscriptDir(
            g.server,
            e.server_to_client_len,
            e.server_to_client_sha256,
            e.server_to_client_b64,
            `${e.client_port} server to client (tshark, DSB)`,
          );
        }
        const text = await tshark(["-r", s.out, "-n", "-Y", "http"]);
        assert(/GET \//.test(text), "tshark -Y http lists the GET requests");
        assertEquals(await malformedCount(s.out), 0);
      });
    },
  });
}

// ---------------------------------------------------------------- 6. bad input

/** A copy of a key log with the first byte of every secret flipped. */
async function flipSecrets(src: string, dst: string): Promise<void> {
  const lines = (await Deno.readTextFile(src)).split("\n").map((line) => {
    const p = line.trim().split(/\s+/);
    if (p.length !== 3 || line.startsWith("#")) return line;
    const b = (parseInt(p[2].slice(0, 2), 16) ^ 0xff).toString(16).padStart(2, "0");
    return `${p[0]} ${p[1]} ${b}${p[2].slice(2)}`;
  });
  await Deno.writeTextFile(dst, lines.join("\n"));
}

for (const name of ["tls12_v4", "tls13_v6"]) {
  Deno.test({
    name:
      `wrong secrets (${name}): flows undecryptable (bad tag), passed through, no secret leaked`,
    ignore,
    async fn() {
      await withTemp("wrongkeys", async (dir) => {
        const f = byName(name);
        const { tls } = await classify(f);
        const bad = `${dir}/bad.keys`;
        await flipSecrets(f.keys, bad);
        const bucket = `${dir}/bucket`;
        await pack(f, bucket, PACK_LAYOUT, bad);
        const s = await stitch(dir, bucket, `${dir}/out.pcap`, ["--with-decrypted"]);
        assertEquals(dec(s.report, "decrypted"), 0, s.reportText);
        const und = decMatching(s.report, "undecryptable_");
        assertEquals(
          Object.values(und).reduce((a, b) => a + b, 0),
          tls.length,
          `every TLS flow undecryptable: ${JSON.stringify(und)}`,
        );
        assertEquals(Object.keys(und), ["undecryptable_bad_tag"], "the reason is the AEAD tag");
        await assertOriginalOutput(f, s.out);
        assertEquals(await malformedCount(s.out), 0);
        const secrets = [...await secretsOf(f.keys), ...await secretsOf(bad)];
        assertNoSecrets(s.stderr, secrets, "stderr");
        assertNoSecrets(s.reportText, secrets, "report");
      });
    },
  });
}

const GARBAGE = [
  "this is not a key log line",
  "CLIENT_RANDOM zz11 0011",
  "CLIENT_RANDOM " + "ab".repeat(32), // no secret
  "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + "cd".repeat(31) + " " + "ef".repeat(32), // short random
  "\u0000\u0001\u0002binary\u00ff",
];

Deno.test({
  name: "garbage lines in a --keylog FILE are counted in report.keys.malformed; good keys decrypt",
  ignore,
  async fn() {
    await withTemp("garbage_file", async (dir) => {
      const f = byName("tls13_v6");
      const { tls } = await classify(f);
      const keys = (await Deno.readTextFile(f.keys)).split("\n");
      // garbage first, between, and last
      const mixed = [GARBAGE[0], ...keys.slice(0, 4), GARBAGE[1], GARBAGE[2], ...keys.slice(4)];
      mixed.push(GARBAGE[3], GARBAGE[4]);
      const keyfile = `${dir}/mixed.keys`;
      await Deno.writeTextFile(keyfile, mixed.join("\n") + "\n");
      const bare = `${dir}/bare`;
      await pack(f, bare, PACK_LAYOUT, null);
      const a = await stitch(dir, bare, `${dir}/a.pcap`, ["--with-decrypted", "--keylog", keyfile]);
      assertEquals(dec(a.report, "decrypted"), tls.length, `--keylog: decrypted: ${a.reportText}`);
      await assertDecryptedOutput(f, a.out);
      const secrets = await secretsOf(f.keys);
      assertNoSecrets(a.stderr, secrets, "stderr");
      assertNoSecrets(a.reportText, secrets, "report");
      assertEquals(
        a.report.keys.malformed,
        GARBAGE.length,
        `report.keys.malformed; keys ${JSON.stringify(a.report.keys)}`,
      );
    });
  },
});

Deno.test({
  name: "garbage lines in keys/ objects are counted in report.keys.malformed; good keys decrypt",
  ignore,
  async fn() {
    await withTemp("garbage_obj", async (dir) => {
      const f = byName("concurrent_25"); // its keys span two keys objects
      const { tls } = await classify(f);
      const bucket = `${dir}/bucket`;
      await pack(f, bucket, PACK_LAYOUT);
      const objs: string[] = [];
      for await (const p of walk(`${bucket}/keys`)) objs.push(p);
      assert(objs.length >= 2, `pack wrote ${objs.length} keys objects`);
      for (const p of objs) {
        const text = await Deno.readTextFile(p);
        await Deno.writeTextFile(p, `${GARBAGE[0]}\n${text}${GARBAGE[1]}\n`);
      }
      const b = await stitch(dir, bucket, `${dir}/b.pcap`, ["--with-decrypted"]);
      assertEquals(dec(b.report, "decrypted"), tls.length, `keys objects: ${b.reportText}`);
      const listed = b.report.problems.filter((p) => p.kind.startsWith("key_"));
      assertEquals(listed.length, 2 * objs.length, "each bad line is a listed problem");
      assertEquals(b.report.keys.malformed, 2 * objs.length, "report.keys.malformed");
      const secrets = await secretsOf(f.keys);
      assertNoSecrets(b.stderr, secrets, "stderr");
      assertNoSecrets(b.reportText, secrets, "report");
    });
  },
});

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(p);
    else if (e.isFile) yield p;
  }
}

interface CtapRec {
  off: number;
  type: number;
  len: number;
}

function ctapRecords(obj: Uint8Array): CtapRec[] {
  const dv = new DataView(obj.buffer, obj.byteOffset, obj.byteLength);
  let off = 12 + dv.getUint32(8, true);
  const out: CtapRec[] = [];
  while (off + 12 <= obj.length) {
    const len = dv.getUint32(off + 4, true);
    out.push({ off, type: obj[off], len });
    off += 12 + len;
  }
  assertEquals(off, obj.length, "CTAP object framing");
  return out;
}

const u64 = (dv: DataView, at: number) =>
  dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;

Deno.test({
  name:
    "a DATA record removed from one TLS flow: that flow is counted as a gap, the others decrypt",
  ignore,
  async fn() {
    await withTemp("gap", async (dir) => {
      const f = byName("tls12_v4");
      const { tls } = await classify(f);
      const bucket = `${dir}/bucket`;
      await pack(f, bucket, PACK_LAYOUT);
      const objects: string[] = [];
      for await (const p of walk(`${bucket}/data`)) objects.push(p);
      // flows by id: server and client port (FLOW_OPEN may be in any object)
      const flows = new Map<number, { clientPort: number; serverPort: number }>();
      const data: { path: string; rec: CtapRec; flow: number; dir: number; offset: number }[] = [];
      for (const path of objects) {
        const obj = await Deno.readFile(path);
        const dv = new DataView(obj.buffer, obj.byteOffset, obj.byteLength);
        for (const rec of ctapRecords(obj)) {
          const body = rec.off + 8;
          if (rec.type === 1) {
            flows.set(u64(dv, body), {
              clientPort: dv.getUint16(body + 18, true),
              serverPort: dv.getUint16(body + 20, true),
            });
          } else if (rec.type === 2) {
            data.push({
              path,
              rec,
              flow: u64(dv, body),
              dir: obj[body + 16],
              offset: u64(dv, body + 17),
            });
          }
        }
      }
      // the biggest server-to-client direction (the 100000-byte download):
      // remove one of its DATA records well after the handshake
      const bytesOf = (id: number) =>
        data.filter((d) => d.flow === id && d.dir === 1).reduce((a, d) => a + d.rec.len, 0);
      const victim = [...flows.keys()].sort((a, b) => bytesOf(b) - bytesOf(a))[0];
      const ports = flows.get(victim)!;
      assertEquals(ports.serverPort, 8443, `flow ports ${JSON.stringify(ports)}`);
      const cand = data.filter((d) => d.flow === victim && d.dir === 1 && d.offset > 20000);
      assert(cand.length > 2, "records to remove");
      const cut = cand[Math.floor(cand.length / 2)];
      const obj = await Deno.readFile(cut.path);
      const recs = ctapRecords(obj);
      const end = recs[recs.length - 1];
      assertEquals(end.type, 127, "END record last");
      const cutLen = 12 + cut.rec.len;
      const payload = cut.rec.len - 25;
      const out = new Uint8Array(obj.length - cutLen);
      out.set(obj.subarray(0, cut.rec.off));
      out.set(obj.subarray(cut.rec.off + cutLen), cut.rec.off);
      // fix END: one record and `payload` bytes fewer, new CRC
      const endOff = end.off - cutLen;
      const dv = new DataView(out.buffer);
      const setU64 = (at: number, v: number) => {
        dv.setUint32(at, v % 2 ** 32, true);
        dv.setUint32(at + 4, Math.floor(v / 2 ** 32), true);
      };
      setU64(endOff + 8, u64(dv, endOff + 8) - 1);
      setU64(endOff + 16, u64(dv, endOff + 16) - payload);
      dv.setUint32(endOff + 8 + end.len, crc32c(out, endOff, endOff + 8 + end.len), true);
      await Deno.writeFile(cut.path, out);

      const s = await stitch(dir, bucket, `${dir}/out.pcap`, ["--with-decrypted"]);
      assertEquals(s.report.gaps.count, 1, `one gap: ${s.reportText}`);
      assertEquals(s.report.errors["end_mismatch"] ?? 0, 0, "END fixed up");
      const gapCounts = Object.entries(s.report.decryption).filter(([k]) => k.includes("gap"));
      assertEquals(
        gapCounts.reduce((a, [, v]) => a + v, 0),
        1,
        `one flow counted with reason gap: ${JSON.stringify(s.report.decryption)}`,
      );
      const [got, truth] = await Promise.all([tcpStreams(s.out), originalTls(f)]);
      for (const e of tls) {
        const g = findStream(got, e.client_ip, e.client_port, e.server_port);
        assert(g !== undefined, `${e.client_port} missing from the output`);
        if (e.client_port !== ports.clientPort) {
          await assertTranscriptDir(
            g.server,
            e.server_to_client_len,
            e.server_to_client_sha256,
            e.server_to_client_b64,
            `${e.client_port} (not cut) server to client`,
          );
          await assertTranscriptDir(
            g.client,
            e.client_to_server_len,
            e.client_to_server_sha256,
            e.client_to_server_b64,
            `${e.client_port} (not cut) client to server`,
          );
          continue;
        }
        // the cut flow: whatever it carries is true plaintext or the original
        // ciphertext, never invented bytes
        const t = findStream(truth, e.client_ip, e.client_port, e.server_port)!;
        const o = findStream(await originalTcp(f), e.client_ip, e.client_port, e.server_port)!;
        const prefixOf = (a: Uint8Array, b: Uint8Array) =>
          a.length <= b.length && a.every((x, i) => x === b[i]);
        assert(
          (prefixOf(g.server, t.server) && g.server.length < t.server.length) ||
            prefixOf(g.server, o.server),
          `cut flow server to client: ${g.server.length} bytes, neither plaintext nor ciphertext`,
        );
      }
      assertEquals(await malformedCount(s.out), 0);
    });
  },
});

// ---------------------------------------------------------------- 7. keys elsewhere

Deno.test({
  name: "-k KEYBUCKET: keys in a bucket of their own decrypt; so does --keylog FILE without keys/",
  ignore,
  async fn() {
    await withTemp("keybucket", async (dir) => {
      const f = byName("tls13_v6");
      const { tls } = await classify(f);
      const data = `${dir}/data`, keys = `${dir}/keys`;
      await pack(f, data, PACK_LAYOUT);
      await Deno.mkdir(keys);
      await Deno.rename(`${data}/keys`, `${keys}/keys`);

      const none = await stitch(dir, data, `${dir}/none.pcap`, [
        "--with-decrypted",
        "--key-wait",
        "1",
      ]);
      assertEquals(
        dec(none.report, "undecryptable_no_key"),
        tls.length,
        "no keys in the data bucket",
      );

      const a = await stitch(dir, data, `${dir}/a.pcap`, ["--with-decrypted", "-k", keys]);
      assertEquals(dec(a.report, "decrypted"), tls.length, `-k: ${a.reportText}`);
      await assertDecryptedOutput(f, a.out);
      const a2 = await stitch(dir, data, `${dir}/a2.pcap`, [
        "--with-decrypted",
        "--keylog-bucket",
        keys,
      ]);
      assertBytesEqual(await Deno.readFile(a2.out), await Deno.readFile(a.out), "--keylog-bucket");

      const b = await stitch(dir, data, `${dir}/b.pcap`, ["--with-decrypted", "--keylog", f.keys]);
      assertEquals(dec(b.report, "decrypted"), tls.length, `--keylog: ${b.reportText}`);
      assertBytesEqual(await Deno.readFile(b.out), await Deno.readFile(a.out), "--keylog output");
    });
  },
});
