/**
 * The `gcp` provider against the Firebase storage emulator's GCS JSON API
 * (Google's code, npm firebase-tools) on 127.0.0.1, started once for this
 * file by tests/servers/gcs_emulator.sh and stopped by the last test (unless
 * it was already running). The CLI cases run the compiled binary; the
 * reference for every output is the same capture packed and stitched with
 * `--provider file` and identical flags. Paging is tested in-process, with a
 * page size of 10. The emulator checks no credentials, so the credentials
 * case is a malformed service-account file.
 *
 * When the emulator cannot be started the tests FAIL (CI installs it).
 */
import { assert, assertBytesEqual, assertEquals, assertMatch } from "./assert.ts";
import { ROOT, runBin } from "./lib/bin.ts";
import { createGcsStorage } from "../plugins/sources/gcs/mod.ts";
import type { StorageConfig } from "../plugins/sources/mod.ts";

const SCRIPT = `${ROOT}/tests/servers/gcs_emulator.sh`;
const CAPS = `${ROOT}/tests/fixtures/captures`;
const PCAP = `${CAPS}/concurrent_25.pcap`;
const KEYS = `${CAPS}/concurrent_25.keys`;
const PACK_FLAGS = [
  "--pcap",
  PCAP,
  "--keylog",
  KEYS,
  "--origin",
  "US-NYC1",
  "--writers",
  "3",
  "--split-directions",
  "--window",
  "1",
];
const opts = { sanitizeResources: false, sanitizeOps: false };

interface Emulator {
  endpoint: string;
  tmp: string;
  /** Whether this file started the server (and so stops it at the end). */
  ownServer: boolean;
}

async function script(arg: string, timeoutMs: number): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: [SCRIPT, arg],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  if (!out.success) {
    throw new Error(
      `tests/servers/gcs_emulator.sh ${arg} failed (exit ${out.code}): ${
        new TextDecoder().decode(out.stderr).trim()
      }`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

async function isRunning(): Promise<boolean> {
  const pid = await Deno.readTextFile(`${ROOT}/tests/.work/gcs/pid`).catch(() => "");
  if (pid.trim() === "") return false;
  return await new Deno.Command("kill", { args: ["-0", pid.trim()], stderr: "null" }).output()
    .then((o) => o.success);
}

let started: Promise<Emulator> | null = null;

/** The running emulator; starts it on first use (install included: up to 15 min). */
function emulator(): Promise<Emulator> {
  started ??= (async () => {
    const wasRunning = await isRunning();
    try {
      await script("start", 900_000);
    } catch (e) {
      throw new Error(
        `the GCS emulator could not be started, so the GCS tests cannot run (CI installs it): ${
          (e as Error).message
        }`,
      );
    }
    const env = Object.fromEntries(
      (await script("env", 30_000)).trim().split("\n").map((l) =>
        l.split("=", 2) as [string, string]
      ),
    );
    assert(
      env.GCS_EMULATOR_ENDPOINT?.startsWith("http://127.0.0.1:"),
      `bad GCS_EMULATOR_ENDPOINT: ${env.GCS_EMULATOR_ENDPOINT}`,
    );
    const tmp = await Deno.makeTempDir({ prefix: "stitcher-gcs-" });
    return { endpoint: env.GCS_EMULATOR_ENDPOINT, tmp, ownServer: !wasRunning };
  })();
  return started;
}

/**
 * An HTTP proxy on 127.0.0.1 in front of the emulator. `after(req)` runs once
 * the upstream has answered and before the client gets the answer; when
 * `cut(req)` is true the answer's body breaks off after half its bytes (the
 * connection dies mid-download).
 */
function proxyTo(
  upstream: string,
  hooks: {
    after?: (u: URL, method: string) => Promise<void>;
    cut?: (u: URL, method: string) => boolean;
  },
) {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const u = new URL(req.url);
    const headers = new Headers(req.headers);
    headers.delete("accept-encoding");
    headers.delete("host");
    const body = req.body === null ? undefined : await req.arrayBuffer();
    const res = await fetch(`${upstream}${u.pathname}${u.search}`, {
      method: req.method,
      headers,
      body,
      redirect: "manual",
    });
    const payload = new Uint8Array(await res.arrayBuffer());
    await hooks.after?.(u, req.method);
    const out = new Headers(res.headers);
    out.delete("content-length");
    out.delete("transfer-encoding");
    out.delete("content-encoding");
    if (hooks.cut?.(u, req.method) && payload.length > 1) {
      const half = payload.subarray(0, payload.length >> 1);
      const broken = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(half);
          setTimeout(() => c.error(new Error("connection cut by the test proxy")), 50);
        },
      });
      // The full length is announced, as a server does before its connection dies.
      out.set("content-length", String(payload.length));
      return new Response(broken, { status: res.status, headers: out });
    }
    return new Response(payload, { status: res.status, headers: out });
  });
}

let seq = 0;
function newBucket(name: string): string {
  return `${name}-${Date.now().toString(36)}-${seq++}`;
}

function gcsArgs(endpoint: string, bucket: string): string[] {
  return ["--provider", "gcp", "--endpoint-url", endpoint, "-b", bucket];
}

async function ok(args: string[], timeoutMs = 120_000) {
  const res = await runBin(args, { timeoutMs });
  if (res.code !== 0) {
    throw new Error(`stitcher ${args.join(" ")} exited ${res.code}: ${res.stderr}`);
  }
  return res;
}

function config(e: Emulator, bucket: string): StorageConfig {
  return {
    provider: "gcp",
    bucket,
    credentials: null,
    credentialsFile: null,
    defaultCredentials: false,
    region: null,
    storageAccount: null,
    endpoint: e.endpoint,
  };
}

async function listKeys(e: Emulator, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of (await createGcsStorage(config(e, bucket))).list(prefix)) keys.push(o.key);
  return keys;
}

/** Packs the capture to GCS and to a folder with the same flags; stitches both with `stitchFlags`. */
async function stitchBoth(e: Emulator, bucket: string, stitchFlags: string[][]) {
  const folder = `${e.tmp}/${bucket}`;
  await ok(["pack", ...gcsArgs(e.endpoint, bucket), ...PACK_FLAGS]);
  await ok(["pack", "--provider", "file", "-b", folder, ...PACK_FLAGS]);
  for (const flags of stitchFlags) {
    const tag = flags.join("") || "plain";
    const got = `${e.tmp}/${bucket}-${tag}-gcs.pcap`;
    const want = `${e.tmp}/${bucket}-${tag}-file.pcap`;
    await ok([...gcsArgs(e.endpoint, bucket), "-e", got, "--strict", ...flags]);
    await ok(["--provider", "file", "-b", folder, "-e", want, "--strict", ...flags]);
    const [g, w] = await Promise.all([Deno.readFile(got), Deno.readFile(want)]);
    assert(w.length > 10_000, `reference output ${want} is too small (${w.length} bytes)`);
    assertBytesEqual(g, w, `gcs ${flags.join(" ")} vs file:`);
  }
}

Deno.test({
  name: "gcs: pack then stitch gives the file provider's bytes, plain and --with-decrypted",
  ...opts,
  async fn() {
    const e = await emulator();
    await stitchBoth(e, newBucket("rt"), [[], ["--with-decrypted"]]);
  },
});

Deno.test({
  name: "gcs: list pages through 35 objects 10 at a time, resumes after a key, lists folders",
  ...opts,
  async fn() {
    const e = await emulator();
    const bucket = newBucket("page");
    const s = await createGcsStorage(config(e, bucket), { pageSize: 10 });
    const keys: string[] = [];
    for (let i = 0; i < 35; i++) {
      keys.push(`data/O${i % 5}/k${String(i).padStart(3, "0")}`);
    }
    keys.push("keys/O0/x", "dataless");
    await Promise.all(keys.map((k) => s.put(k, new TextEncoder().encode(k))));
    const want = keys.filter((k) => k.startsWith("data/")).sort();
    const got: string[] = [];
    for await (const o of s.list("data/")) {
      got.push(o.key);
      assertEquals(o.size, new TextEncoder().encode(o.key).length, `size of ${o.key}`);
      assert(o.mtimeMs !== undefined && o.mtimeMs > 1.6e12, `mtime of ${o.key}: ${o.mtimeMs}`);
    }
    assertEquals(got, want);
    const after: string[] = [];
    for await (const o of s.list("data/", { startAfter: want[22] })) after.push(o.key);
    assertEquals(after, want.slice(23));
    const folders: string[] = [];
    const s2 = await createGcsStorage(config(e, bucket), { pageSize: 2 });
    for await (const f of s2.listFolders!("data/")) folders.push(f);
    assertEquals(folders, ["data/O0/", "data/O1/", "data/O2/", "data/O3/", "data/O4/"]);
    const top: string[] = [];
    for await (const f of s2.listFolders!("")) top.push(f);
    assertEquals(top, ["data/", "keys/"]);
    const body = await s.open(want[7], { start: 3 });
    assertEquals(
      new TextDecoder().decode(new Uint8Array(await new Response(body).arrayBuffer())),
      want[7].slice(3),
    );
    const atEnd = await s.open(want[7], { start: new TextEncoder().encode(want[7]).length });
    assertEquals((await new Response(atEnd).arrayBuffer()).byteLength, 0, "read from the end");
  },
});

Deno.test({
  name: "gcs: a malformed service-account file fails in one line naming it, never its key",
  ...opts,
  async fn() {
    const e = await emulator();
    const bucket = newBucket("auth");
    const secret = "-----BEGIN NOT A KEY----- c2VjcmV0LXZhbHVlLTQyNDI= -----END-----";
    const cases: [string, Record<string, unknown>][] = [
      ["nokey.json", { type: "service_account", client_email: "a@b.iam", private_key: secret }],
      ["noemail.json", {
        type: "service_account",
        private_key:
          "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXZhbHVlLTQyNDI=\n-----END PRIVATE KEY-----",
      }],
      ["user.json", { type: "authorized_user", client_secret: "c2VjcmV0LXZhbHVlLTQyNDI=" }],
    ];
    for (const [file, content] of cases) {
      const path = `${e.tmp}/${file}`;
      await Deno.writeTextFile(path, JSON.stringify(content));
      const res = await runBin([...gcsArgs(e.endpoint, bucket), "-c", path, "-e", "/dev/null"]);
      assertEquals(res.code, 2, `${file}: ${res.stderr}`);
      const lines = res.stderr.trim().split("\n");
      assertEquals(lines.length, 1, res.stderr);
      assertMatch(lines[0], new RegExp(`${file} is not a Google service account key`));
      assert(!res.stderr.includes("c2VjcmV0LXZhbHVlLTQyNDI"), `${file}: the key was printed`);
    }
    const noCreds = await runBin(["--provider", "gcp", "-b", bucket, "-e", "/dev/null"]);
    assertEquals(noCreds.code, 2, noCreds.stderr);
    assertMatch(noCreds.stderr, /--default-gcp-credentials, or --endpoint-url URL/);
  },
});

Deno.test({
  name: "gcs: a missing bucket fails clearly with exit 1",
  ...opts,
  async fn() {
    const e = await emulator();
    const bucket = newBucket("nope");
    const res = await runBin([...gcsArgs(e.endpoint, bucket), "-e", `${e.tmp}/x.pcap`]);
    assertEquals(res.code, 1, res.stderr);
    assertEquals(res.stderr.trim().split("\n").length, 1, res.stderr);
    assertMatch(res.stderr, new RegExp(`GCS bucket ${bucket} does not exist`));
  },
});

Deno.test({
  name: "gcs: an object deleted between list and get is reported by key, exit 1, the rest intact",
  ...opts,
  async fn() {
    const e = await emulator();
    const bucket = newBucket("gone");
    await ok(["pack", ...gcsArgs(e.endpoint, bucket), ...PACK_FLAGS]);
    const data = await listKeys(e, bucket, "data/");
    assert(data.length >= 3, `expected several data objects, got ${data}`);
    const victim = data[1];
    // A proxy in front of the emulator deletes the victim right after the
    // first object listing has been answered, before the client reads it.
    let deleted = false;
    const proxy = proxyTo(e.endpoint, {
      after: async (u, method) => {
        if (!deleted && method === "GET" && /\/b\/[^/]+\/o$/.test(u.pathname)) {
          deleted = true;
          const del = await fetch(
            `${e.endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(victim)}`,
            { method: "DELETE" },
          );
          await del.body?.cancel();
          assert(del.ok, `DELETE ${victim}: HTTP ${del.status}`);
        }
      },
    });
    try {
      const endpoint = `http://127.0.0.1:${proxy.addr.port}`;
      const report = `${e.tmp}/${bucket}-report.json`;
      const res = await runBin([
        ...gcsArgs(endpoint, bucket),
        "-e",
        `${e.tmp}/${bucket}.pcap`,
        "--report",
        report,
      ]);
      assert(deleted, "the proxy never saw a listing");
      assertEquals(res.code, 1, res.stderr);
      const r = JSON.parse(await Deno.readTextFile(report));
      assertEquals(r.objects.failed, 1, JSON.stringify(r.objects));
      const problems = (r.problems as { where: string; kind: string; detail: string }[])
        .filter((p) => p.kind === "read_failed");
      assertEquals(problems.map((p) => p.where), [victim]);
      assertMatch(problems[0].detail, /no object .* \(HTTP 404\)/);
      assert(r.objects.read >= data.length - 1, `objects read: ${JSON.stringify(r.objects)}`);
      assert(r.flows.opened > 0, "no flows from the other objects");
    } finally {
      await proxy.shutdown();
    }
  },
});

Deno.test({
  name: "gcs: a download cut midway is resumed with a ranged read, output unchanged",
  ...opts,
  async fn() {
    const e = await emulator();
    const bucket = newBucket("cut");
    await ok(["pack", ...gcsArgs(e.endpoint, bucket), ...PACK_FLAGS]);
    await ok(["pack", "--provider", "file", "-b", `${e.tmp}/${bucket}`, ...PACK_FLAGS]);
    let cuts = 0;
    const proxy = proxyTo(e.endpoint, {
      cut: (u, method) => {
        const media = method === "GET" && u.searchParams.get("alt") === "media" &&
          decodeURIComponent(u.pathname).includes("/data/");
        return media && cuts++ < 2;
      },
    });
    try {
      const endpoint = `http://127.0.0.1:${proxy.addr.port}`;
      const got = `${e.tmp}/${bucket}-gcs.pcap`;
      const want = `${e.tmp}/${bucket}-file.pcap`;
      const res = await ok([...gcsArgs(endpoint, bucket), "-e", got, "--strict"]);
      await ok(["--provider", "file", "-b", `${e.tmp}/${bucket}`, "-e", want, "--strict"]);
      assertEquals(cuts >= 2, true, `downloads cut: ${cuts}`);
      assertMatch(res.stderr, /retrying op=read/);
      assertBytesEqual(await Deno.readFile(got), await Deno.readFile(want), "after resume:");
    } finally {
      await proxy.shutdown();
    }
  },
});

Deno.test({
  name: "gcs: stop the emulator (last test of this file)",
  ...opts,
  async fn() {
    if (started === null) return;
    const e = await started;
    await Deno.remove(e.tmp, { recursive: true }).catch(() => {});
    if (e.ownServer) await script("stop", 60_000);
  },
});
