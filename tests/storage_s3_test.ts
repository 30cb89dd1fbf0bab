/**
 * The `aws` provider against a real S3 server: Ceph radosgw on 127.0.0.1,
 * started once for this file by tests/servers/radosgw.sh and stopped by the
 * last test. Everything runs the compiled binary. The reference for every
 * output is the same capture packed and stitched with `--provider file`
 * and identical flags: the S3 run must give the same bytes.
 *
 * Faults are made real: wrong keys, a missing bucket, an object deleted
 * between list and get, radosgw killed and restarted mid-run, and a slow
 * link (a TCP proxy in front of radosgw that delays every chunk; it also
 * records the requests, to check what was listed).
 *
 * When radosgw cannot be started the tests FAIL (CI installs Ceph).
 */
import { CreateBucketCommand, DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { assert, assertBytesEqual, assertEquals, assertMatch } from "./assert.ts";
import { hasTool, tcpStreams } from "./lib/oracle.ts";
import {
  CAPS,
  KEYS,
  LAYOUT,
  ok,
  opts,
  packBoth as packInto,
  PCAP,
  run,
  type Server,
  serverScript,
  startServer,
  stopServer,
  storageConfig,
  uniqueName,
} from "./lib/storage.ts";
import { createS3Storage } from "../plugins/sources/s3/mod.ts";

const SCRIPT = "radosgw.sh";

interface Rgw extends Server {
  port: number;
  accessKey: string;
  secretKey: string;
  client: S3Client;
  creds: string;
}

function script(arg: string, timeoutMs: number): Promise<string> {
  return serverScript(SCRIPT, arg, timeoutMs);
}

let started: Promise<Rgw> | null = null;

/** The running radosgw; starts it on first use (install included: up to 10 min). */
function rgw(): Promise<Rgw> {
  started ??= (async () => {
    const server = await startServer({
      script: SCRIPT,
      timeoutMs: 600_000,
      failure: "radosgw could not be started, so the S3 tests cannot run (CI installs Ceph)",
      endpointVar: "RGW_ENDPOINT",
      tmpPrefix: "stitcher-s3-",
    });
    const { env, endpoint, tmp } = server;
    const creds = `${tmp}/creds.json`;
    await Deno.writeTextFile(
      creds,
      JSON.stringify({ access_key_id: env.RGW_ACCESS_KEY, secret_access_key: env.RGW_SECRET_KEY }),
    );
    return {
      ...server,
      port: Number(new URL(endpoint).port),
      accessKey: env.RGW_ACCESS_KEY,
      secretKey: env.RGW_SECRET_KEY,
      client: new S3Client({
        region: "us-east-1",
        endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: env.RGW_ACCESS_KEY, secretAccessKey: env.RGW_SECRET_KEY },
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      }),
      creds,
    };
  })();
  return started;
}

async function newBucket(r: Rgw, name: string): Promise<string> {
  const bucket = uniqueName(name);
  await r.client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

function s3Args(endpoint: string, creds: string, bucket: string): string[] {
  return ["--provider", "aws", "--endpoint-url", endpoint, "-c", creds, "-b", bucket];
}

/** Packs `pcap` into the S3 bucket and into a bucket folder, with the same flags. */
function packBoth(
  r: Rgw,
  bucket: string,
  folder: string,
  flags: string[],
  pcap = PCAP,
): Promise<void> {
  return packInto(s3Args(r.endpoint, r.creds, bucket), folder, ["--pcap", pcap, ...flags]);
}

/** A new bucket `name-…` with `flags` packed into it and into its folder `${r.tmp}/${bucket}`. */
async function packedBucket(name: string, flags: string[]) {
  const r = await rgw();
  const bucket = await newBucket(r, name);
  const folder = `${r.tmp}/${bucket}`;
  await packBoth(r, bucket, folder, flags);
  return { r, bucket, folder };
}

/** `pack` of the small plain-HTTP capture at origin US-NYC1 into a bucket named by `storeArgs`. */
function packSmall(storeArgs: string[]): string[] {
  return ["pack", ...storeArgs, "--pcap", `${CAPS}/http_plain_v4.pcap`, "--origin", "US-NYC1"];
}

/** Stitches from S3 (through `endpoint`) and from the folder; returns both pcaps and reports. */
async function stitchBoth(
  r: Rgw,
  bucket: string,
  folder: string,
  flags: string[],
  endpoint = r.endpoint,
) {
  const tag = `${bucket}-${crypto.randomUUID().slice(0, 8)}`;
  const s3Pcap = `${r.tmp}/${tag}-s3.pcap`, filePcap = `${r.tmp}/${tag}-file.pcap`;
  const s3 = await run([
    ...s3Args(endpoint, r.creds, bucket),
    "-e",
    s3Pcap,
    "--report",
    `${s3Pcap}.json`,
    ...flags,
  ], 180_000);
  await ok([
    "--provider",
    "file",
    "-b",
    folder,
    "-e",
    filePcap,
    "--report",
    `${filePcap}.json`,
    ...flags,
  ]);
  return {
    s3,
    s3Pcap,
    s3Bytes: await Deno.readFile(s3Pcap).catch(() => new Uint8Array()),
    fileBytes: await Deno.readFile(filePcap),
    s3Report: JSON.parse(await Deno.readTextFile(`${s3Pcap}.json`)),
    fileReport: JSON.parse(await Deno.readTextFile(`${filePcap}.json`)),
  };
}

/** The S3 run of `stitchBoth` exited 0 with the folder's bytes and object counts. */
function assertSameAsFile(both: Awaited<ReturnType<typeof stitchBoth>>, what: string) {
  assertEquals(both.s3.code, 0, both.s3.stderr);
  assertBytesEqual(both.s3Bytes, both.fileBytes, what);
  assertEquals(both.s3Report.objects, both.fileReport.objects);
}

/** Keys of every object in a bucket folder, in key order. */
async function folderKeys(dir: string, base = ""): Promise<string[]> {
  const out: string[] = [];
  const entries = [];
  for await (const e of Deno.readDir(`${dir}/${base}`)) entries.push(e);
  for (const e of entries) {
    if (e.isDirectory) out.push(...await folderKeys(dir, `${base}${e.name}/`));
    else out.push(base + e.name);
  }
  return out.sort();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  for (let guard = 0; off < bytes.length && guard < 1_000_000; guard++) {
    off += await conn.write(bytes.subarray(off));
  }
}

function indexOfCrlf2(buf: Uint8Array): number {
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/**
 * A TCP proxy on 127.0.0.1 in front of radosgw. It records each HTTP
 * request line, can hold a request until a hook has run, delays every chunk
 * the server sends (`delayMs`, chunks of at most `chunk` bytes), and while
 * radosgw refuses connections keeps retrying for up to `holdMs`.
 */
class Proxy {
  readonly requests: string[] = [];
  delayMs = 0;
  chunk = 65536;
  holdMs = 0;
  onRequest?: (method: string, target: string) => void | Promise<void>;
  private readonly listener: Deno.TcpListener;
  private readonly conns = new Set<Deno.Conn>();
  private readonly done: Promise<void>;

  constructor(private readonly upstreamPort: number) {
    this.listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.done = this.accept();
  }

  get url(): string {
    return `http://127.0.0.1:${this.listener.addr.port}`;
  }

  private async accept(): Promise<void> {
    try {
      for await (const conn of this.listener) this.handle(conn).catch(() => {});
    } catch {
      // listener closed
    }
  }

  private async connectUpstream(): Promise<Deno.Conn | null> {
    const deadline = Date.now() + this.holdMs;
    for (let i = 0; i < 100_000; i++) {
      try {
        return await Deno.connect({ hostname: "127.0.0.1", port: this.upstreamPort });
      } catch {
        if (Date.now() >= deadline) return null;
        await sleep(50);
      }
    }
    return null;
  }

  private async handle(client: Deno.Conn): Promise<void> {
    this.conns.add(client);
    const upstream = await this.connectUpstream();
    if (upstream === null) {
      this.drop(client);
      return;
    }
    this.conns.add(upstream);
    await Promise.race([this.requestsTo(client, upstream), this.responsesTo(upstream, client)])
      .catch(() => {});
    this.drop(client);
    this.drop(upstream);
  }

  private drop(c: Deno.Conn): void {
    this.conns.delete(c);
    try {
      c.close();
    } catch {
      // already closed
    }
  }

  /** Client → server: splits the byte stream into requests (Content-Length bodies). */
  private async requestsTo(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const tmp = new Uint8Array(65536);
    let buf = new Uint8Array(0);
    let bodyLeft = 0;
    let raw = false;
    for (let i = 0; i < 10_000_000; i++) {
      const n = await from.read(tmp);
      if (n === null) return;
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(tmp.subarray(0, n), buf.length);
      buf = next;
      while (buf.length > 0) {
        if (raw) {
          await writeAll(to, buf);
          buf = new Uint8Array(0);
          break;
        }
        if (bodyLeft > 0) {
          const take = Math.min(bodyLeft, buf.length);
          await writeAll(to, buf.subarray(0, take));
          bodyLeft -= take;
          buf = buf.slice(take);
          continue;
        }
        const end = indexOfCrlf2(buf);
        if (end < 0) break;
        const head = new TextDecoder().decode(buf.subarray(0, end));
        const [method, target] = head.split("\r\n", 1)[0].split(" ");
        this.requests.push(`${method} ${target}`);
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (/\r\ntransfer-encoding:/i.test(head)) raw = true;
        if (this.onRequest) await this.onRequest(method, target);
        await writeAll(to, buf.subarray(0, end + 4));
        bodyLeft = cl ? Number(cl[1]) : 0;
        buf = buf.slice(end + 4);
      }
    }
  }

  /** Server → client: chunk by chunk, each after `delayMs`. */
  private async responsesTo(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const tmp = new Uint8Array(this.chunk);
    for (let i = 0; i < 10_000_000; i++) {
      const n = await from.read(tmp);
      if (n === null) return;
      if (this.delayMs > 0) await sleep(this.delayMs);
      await writeAll(to, tmp.subarray(0, n));
    }
  }

  /** Cuts every open connection, as a crashed server or a broken path does. */
  severAll(): void {
    for (const c of [...this.conns]) this.drop(c);
  }

  async close(): Promise<void> {
    this.listener.close();
    for (const c of [...this.conns]) this.drop(c);
    await this.done;
  }
}

/** Requests that fetched an object (GET of a key, not a listing). */
function objectGets(p: Proxy, bucket: string): string[] {
  return p.requests.filter((r) =>
    r.startsWith(`GET /${bucket}/`) && !r.includes("list-type=") &&
    r.split(" ")[1].split("?")[0].length > bucket.length + 2
  );
}

function listRequests(p: Proxy): URLSearchParams[] {
  return p.requests
    .filter((r) => r.includes("list-type=2"))
    .map((r) => new URL(r.split(" ")[1], "http://x").searchParams);
}

Deno.test({
  name: "S3: pack to radosgw, stitch from it: byte-identical to the file provider (also decrypted)",
  ...opts,
  async fn() {
    const { r, bucket, folder } = await packedBucket("e2e", [
      "--keylog",
      KEYS,
      "--origin",
      "US-NYC1",
      ...LAYOUT,
    ]);
    const plain = await stitchBoth(r, bucket, folder, []);
    assertSameAsFile(plain, "S3 vs file pcap:");
    assertEquals(plain.s3Report.flows.opened, 25);
    assertEquals(plain.s3Report.problems, []);
    if (hasTool("tshark")) assertEquals((await tcpStreams(plain.s3Pcap)).size, 25);

    const dec = await stitchBoth(r, bucket, folder, ["--with-decrypted"]);
    assertEquals(dec.s3.code, 0, dec.s3.stderr);
    assertBytesEqual(dec.s3Bytes, dec.fileBytes, "S3 vs file decrypted pcap:");
    assertEquals(dec.s3Report.keys, dec.fileReport.keys);
    assert(dec.s3Report.keys.entries > 0, "keys were read from the bucket's keys/ objects");
    assertEquals(dec.s3Report.decryption, dec.fileReport.decryption);
    assert(dec.s3Bytes.length !== plain.s3Bytes.length, "decrypted output differs from plain");
  },
});

/** One bucket with three origins at 1 ms objects: > 1000 objects under data/. */
let multi: Promise<{ bucket: string; folder: string }> | null = null;
function multiBucket(r: Rgw) {
  multi ??= (async () => {
    const bucket = await newBucket(r, "multi");
    const folder = `${r.tmp}/${bucket}`;
    for (const origin of ["US-NYC1", "US-SFO2", "EU-FRA1"]) {
      await packBoth(r, bucket, folder, [
        "--origin",
        origin,
        "--writers",
        "3",
        "--split-directions",
        "--window",
        "0.001",
      ]);
    }
    return { bucket, folder };
  })();
  return multi;
}

Deno.test({
  name: "S3: a bucket of more than 1000 objects is listed completely (ListObjectsV2 pages)",
  ...opts,
  async fn() {
    const r = await rgw();
    const { bucket, folder } = await multiBucket(r);
    const keys = (await folderKeys(folder)).filter((k) => k.startsWith("data/"));
    assert(keys.length > 1000, `only ${keys.length} objects; the test needs > 1000`);

    // The provider itself: every key, in order, across pages; resumed after a key.
    const s3 = await createS3Storage(
      storageConfig(
        "aws",
        bucket,
        r.endpoint,
        { access_key_id: r.accessKey, secret_access_key: r.secretKey },
        r.creds,
      ),
    );
    const listed: string[] = [];
    for await (const o of s3.list("data/")) listed.push(o.key);
    assertEquals(listed, keys);
    const after: string[] = [];
    for await (const o of s3.list("data/", { startAfter: keys[1050] })) after.push(o.key);
    assertEquals(after, keys.slice(1051));
    const folders: string[] = [];
    for await (const f of s3.listFolders!("data/")) folders.push(f);
    assertEquals(folders, ["data/EU-FRA1/", "data/US-NYC1/", "data/US-SFO2/"]);

    // The binary, through the recording proxy: several pages were asked for.
    const proxy = new Proxy(r.port);
    try {
      const both = await stitchBoth(r, bucket, folder, [], proxy.url);
      assertSameAsFile(both, "S3 vs file pcap:");
      assertEquals(both.s3Report.objects.listed, keys.length);
      const pages = listRequests(proxy).filter((q) => q.get("prefix") === "data/");
      assert(pages.length >= 2, `expected >= 2 pages of data/, saw ${pages.length}`);
      assert(pages.some((q) => q.has("continuation-token")), "no continuation-token request");
    } finally {
      await proxy.close();
    }
  },
});

Deno.test({
  name: "S3: --origin-filter and --start-ts/--end-ts prune the listing as on the file provider",
  ...opts,
  async fn() {
    const r = await rgw();
    const { bucket, folder } = await multiBucket(r);
    const proxy = new Proxy(r.port);
    try {
      const us = await stitchBoth(r, bucket, folder, ["--origin-filter", "US-*"], proxy.url);
      assertSameAsFile(us, "origin-filtered S3 vs file:");
      assertEquals(us.s3Report.flows.opened, 50);
      const eu = proxy.requests.filter((q) => decodeURIComponent(q).includes("EU-FRA1"));
      assertEquals(eu, [], "nothing of origin EU-FRA1 is listed or fetched");
      const lists = listRequests(proxy);
      assert(lists.some((q) => q.get("delimiter") === "/"), "origins found by a delimiter listing");

      // The first 0.3 s of US-NYC1 (flows that open in the window are exported;
      // records of flows opened before it would be orphans).
      const keys = (await folderKeys(folder)).filter((k) => k.startsWith("data/US-NYC1/"));
      const startMs = Math.min(...keys.map((k) => Number(k.split("/").pop()!.split("-")[0])));
      const win = ["--start-ts", String(startMs / 1000), "--end-ts", String(startMs / 1000 + 0.3)];
      proxy.requests.length = 0;
      const w = await stitchBoth(
        r,
        bucket,
        folder,
        [...win, "--origin-filter", "US-NYC1"],
        proxy.url,
      );
      assertSameAsFile(w, "windowed S3 vs file:");
      assert(
        w.s3Report.packets.out > 0 && w.s3Report.packets.out < us.s3Report.packets.out / 2,
        `window exported ${w.s3Report.packets.out} packets, the two US origins ${us.s3Report.packets.out}`,
      );
      assert(
        w.s3Report.objects.skipped.outside_window > 0,
        "objects outside the window were skipped",
      );
      const fetched = objectGets(proxy, bucket).length;
      assertEquals(fetched, w.s3Report.objects.read, "only objects in the window were fetched");
      for (const q of listRequests(proxy)) {
        const prefix = q.get("prefix") ?? "";
        assert(!prefix.includes("US-SFO2") && !prefix.includes("EU-FRA1"), `listed ${prefix}`);
      }
    } finally {
      await proxy.close();
    }
  },
});

Deno.test({
  name: "S3: wrong credentials fail with one line naming provider and bucket, never the secret",
  ...opts,
  async fn() {
    const r = await rgw();
    const bucket = await newBucket(r, "auth");
    await ok(packSmall(s3Args(r.endpoint, r.creds, bucket)));
    const secret = "Wr0ngSecret-" + crypto.randomUUID();
    const cases = [
      { name: "wrong secret", creds: { access_key_id: r.accessKey, secret_access_key: secret } },
      {
        name: "unknown key",
        creds: { access_key_id: "NOSUCHKEY" + Date.now(), secret_access_key: secret },
      },
    ];
    for (const c of cases) {
      const file = `${r.tmp}/bad-${bucket}.json`;
      await Deno.writeTextFile(file, JSON.stringify(c.creds));
      const report = `${r.tmp}/bad-${bucket}-report.json`;
      for (const args of [[], ["--with-decrypted"]]) {
        const res = await run([
          ...s3Args(r.endpoint, file, bucket),
          "-e",
          `${r.tmp}/bad.pcap`,
          "--report",
          report,
          ...args,
        ]);
        assert(res.code !== 0, `${c.name}: exit 0`);
        const lines = res.stderr.trim().split("\n");
        assertEquals(lines.length, 1, `${c.name}: stderr is one line: ${res.stderr}`);
        assertMatch(lines[0], new RegExp(`S3 bucket ${bucket} at ${r.endpoint}: access denied`));
        for (const text of [res.out, res.stderr]) {
          assert(!text.includes(secret), `${c.name}: the secret key was printed`);
        }
        const rep = await Deno.readTextFile(report).catch(() => "");
        assert(!rep.includes(secret), `${c.name}: the secret key is in the report`);
      }
      const pack = await run(packSmall(s3Args(r.endpoint, file, bucket)));
      assert(pack.code !== 0, `${c.name}: pack exit 0`);
      assertMatch(pack.stderr, /S3 bucket .* access denied/);
      assert(
        !pack.stderr.includes(secret) && !pack.out.includes(secret),
        "pack printed the secret",
      );
    }
  },
});

Deno.test({
  name: "S3: a missing bucket is a clear error for stitching and for pack",
  ...opts,
  async fn() {
    const r = await rgw();
    const bucket = `no-such-bucket-${Date.now().toString(36)}`;
    const res = await run([...s3Args(r.endpoint, r.creds, bucket), "-e", `${r.tmp}/x.pcap`]);
    assertEquals(res.code, 1);
    assertEquals(
      res.stderr.trim(),
      `stitcher: S3 bucket ${bucket} at ${r.endpoint}: bucket does not exist (NoSuchBucket) listing data/`,
    );
    const pack = await run(packSmall(s3Args(r.endpoint, r.creds, bucket)));
    assertEquals(pack.code, 1);
    assertMatch(
      pack.stderr.trim(),
      new RegExp(
        `^stitcher: S3 bucket ${bucket} at .*: bucket does not exist \\(NoSuchBucket\\) writing data/`,
      ),
    );
    const noCreds = await run(["--provider", "aws", "-b", bucket, "-e", `${r.tmp}/x.pcap`]);
    assertEquals(noCreds.code, 2);
    assertMatch(noCreds.stderr, /--provider aws needs -c FILE or --default-aws-credentials/);
    const partial = `${r.tmp}/partial.json`;
    await Deno.writeTextFile(partial, JSON.stringify({ access_key_id: "AKIA" }));
    const bad = await run([...s3Args(r.endpoint, partial, bucket), "-e", `${r.tmp}/x.pcap`]);
    assertEquals(bad.code, 2);
    assertMatch(bad.stderr, /missing field secret_access_key/);
  },
});

Deno.test({
  name: "S3: an object deleted between list and get is reported by key; other flows intact",
  ...opts,
  async fn() {
    const { r, bucket, folder } = await packedBucket("gone", ["--origin", "US-NYC1", ...LAYOUT]);
    const keys = (await folderKeys(folder)).filter((k) => k.startsWith("data/"));
    const victim = keys[1];
    const proxy = new Proxy(r.port);
    proxy.onRequest = async (method, target) => {
      const path = decodeURIComponent(target.split("?")[0]);
      if (method === "GET" && path === `/${bucket}/${victim}`) {
        await r.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: victim }));
      }
    };
    try {
      const tag = `${r.tmp}/${bucket}`;
      const res = await run([
        ...s3Args(proxy.url, r.creds, bucket),
        "-e",
        `${tag}-s3.pcap`,
        "--report",
        `${tag}-s3.json`,
      ]);
      assertEquals(res.code, 1, res.stderr);
      const rep = JSON.parse(await Deno.readTextFile(`${tag}-s3.json`));
      assertEquals(rep.objects.failed, 1);
      const failed = rep.problems.filter((p: { kind: string }) => p.kind === "read_failed");
      assertEquals(failed.length, 1, JSON.stringify(rep.problems));
      assertEquals(failed[0].where, victim);
      assertMatch(failed[0].detail, /no such object \(NoSuchKey\) reading/);
      // What the lost records leave behind is reported too: gaps and orphaned flows.
      for (const p of rep.problems) {
        assert(["read_failed", "gap", "orphan_flow"].includes(p.kind), JSON.stringify(p));
      }
      assertEquals(objectGets(proxy, bucket).length, keys.length, "not_found is not retried");

      // The same bucket without that object, from the folder: the same packets.
      await Deno.remove(`${folder}/${victim}`);
      await ok(["--provider", "file", "-b", folder, "-e", `${tag}-file.pcap`]);
      assertBytesEqual(
        await Deno.readFile(`${tag}-s3.pcap`),
        await Deno.readFile(`${tag}-file.pcap`),
        "S3 with a lost object vs folder without it:",
      );
    } finally {
      await proxy.close();
    }
  },
});

Deno.test({
  name: "S3: radosgw stopped mid-run and restarted: the run completes with nothing lost",
  ...opts,
  async fn() {
    const { r, bucket, folder } = await packedBucket("crash", ["--origin", "US-NYC1", ...LAYOUT]);
    const proxy = new Proxy(r.port);
    // Slow enough that the kill lands inside a download; connections made
    // while radosgw is down wait for it (up to 60 s) instead of failing.
    proxy.delayMs = 20;
    proxy.chunk = 16384;
    proxy.holdMs = 60_000;
    // The largest object (~500 KB, ~0.6 s through the proxy): the crash lands
    // inside its download.
    const sizes = await Promise.all(
      (await folderKeys(folder)).filter((k) => k.startsWith("data/")).map(async (k) => ({
        k,
        size: (await Deno.stat(`${folder}/${k}`)).size,
      })),
    );
    const victim = sizes.reduce((a, b) => (b.size > a.size ? b : a)).k;
    let crash: Promise<void> | null = null;
    const t: number[] = [];
    proxy.onRequest = (method, target) => {
      const path = decodeURIComponent(target.split("?")[0]);
      if (method !== "GET" || path !== `/${bucket}/${victim}` || crash !== null) return;
      crash = (async () => {
        await sleep(150);
        t.push(performance.now());
        // SIGTERM, not SIGKILL: a killed radosgw leaves its watches on the
        // OSD, and the next bucket creation waits ~30 s for them to expire.
        const stop = script("rgw-stop", 60_000);
        // Data radosgw had already written sits in socket buffers and would
        // still arrive: cut the connections too, so the download breaks.
        await sleep(50);
        proxy.severAll();
        await stop;
        await sleep(1000);
        await script("rgw-start", 120_000);
        t.push(performance.now());
      })();
    };
    try {
      const both = await stitchBoth(
        r,
        bucket,
        folder,
        ["--fetch-concurrency", "1"],
        proxy.url,
      );
      assert(crash !== null, "radosgw was never killed");
      await crash;
      assertSameAsFile(both, "S3 across a crash vs file:");
      assertMatch(
        both.s3.stderr,
        /retrying/,
        `the broken download was retried: ${both.s3.stderr} ${
          JSON.stringify(proxy.requests)
        } ${victim} ${t}`,
      );
      assertEquals(both.s3Report.problems, []);
      assert(t.length === 2 && t[1] - t[0] > 1000, "radosgw was down for more than 1 s");
    } finally {
      await proxy.close();
      await script("rgw-start", 120_000);
    }
  },
});

Deno.test({
  name: "S3: a slow link (every chunk delayed) gives the same output",
  ...opts,
  async fn() {
    const { r, bucket, folder } = await packedBucket("slow", [
      "--keylog",
      KEYS,
      "--origin",
      "US-NYC1",
      ...LAYOUT,
    ]);
    const proxy = new Proxy(r.port);
    proxy.delayMs = 3;
    proxy.chunk = 4096;
    proxy.onRequest = () => sleep(50);
    try {
      const both = await stitchBoth(r, bucket, folder, ["--with-decrypted"], proxy.url);
      assertSameAsFile(both, "S3 over a slow link vs file:");
      assertEquals(both.s3Report.decryption, both.fileReport.decryption);
    } finally {
      await proxy.close();
    }
  },
});

Deno.test({
  name: "S3: stop radosgw (last test of this file)",
  ...opts,
  async fn() {
    if (started === null) return;
    const r = await started.catch(() => null);
    r?.client.destroy();
    await stopServer(SCRIPT, r?.tmp, true, 120_000);
  },
});
