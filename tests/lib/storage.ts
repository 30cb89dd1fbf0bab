/**
 * Test helpers shared by the storage provider tests (tests/storage_*_test.ts):
 * the test servers of tests/servers/ (started once per test file), the
 * capture they pack, the compiled binary run against a provider and against
 * `--provider file` with the same flags, and an HTTP proxy that injects faults.
 */
import { assert, assertBytesEqual, assertEquals, assertMatch } from "../assert.ts";
import { ROOT, runBin } from "./bin.ts";
import type { Storage, StorageConfig } from "../../plugins/sources/mod.ts";

export const CAPS = `${ROOT}/tests/fixtures/captures`;
export const PCAP = `${CAPS}/concurrent_25.pcap`;
export const KEYS = `${CAPS}/concurrent_25.keys`;
/** Small objects: three writers, directions split, 1 s windows. */
export const LAYOUT = ["--writers", "3", "--split-directions", "--window", "1"];
/** The capture with its keys, at origin US-NYC1, in the LAYOUT. */
export const PACK_FLAGS = ["--pcap", PCAP, "--keylog", KEYS, "--origin", "US-NYC1", ...LAYOUT];
export const opts = { sanitizeResources: false, sanitizeOps: false };

/** Runs `bash tests/servers/<name> <arg>`; returns its stdout, throws with its stderr on failure. */
export async function serverScript(name: string, arg: string, timeoutMs: number): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: [`${ROOT}/tests/servers/${name}`, arg],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  if (!out.success) {
    throw new Error(
      `tests/servers/${name} ${arg} failed (exit ${out.code}): ${
        new TextDecoder().decode(out.stderr).trim()
      }`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/** Whether the process whose pid is in `pidFile` (relative to ROOT) is alive. */
async function pidAlive(pidFile: string): Promise<boolean> {
  const pid = await Deno.readTextFile(`${ROOT}/${pidFile}`).catch(() => "");
  if (pid.trim() === "") return false;
  return await new Deno.Command("kill", { args: ["-0", pid.trim()], stderr: "null" }).output()
    .then((o) => o.success);
}

export interface Server {
  /** The KEY=VALUE lines the script printed. */
  env: Record<string, string>;
  endpoint: string;
  /** A temporary folder for this test file (removed by `stopServer`). */
  tmp: string;
  /** Whether this file started the server (and so stops it at the end). */
  ownServer: boolean;
}

/**
 * Starts the server of tests/servers/`script` (`start`, which installs it
 * when missing) and reads its KEY=VALUE lines: from `start` itself, or from
 * `env` when `pidFile` is given (then a server that was already running is
 * not this file's own). `endpointVar` must be an http://127.0.0.1 URL.
 */
export async function startServer(o: {
  script: string;
  timeoutMs: number;
  /** What the error says when the server cannot be started. */
  failure: string;
  endpointVar: string;
  tmpPrefix: string;
  pidFile?: string;
}): Promise<Server> {
  const wasRunning = o.pidFile !== undefined && await pidAlive(o.pidFile);
  let text: string;
  try {
    text = await serverScript(o.script, "start", o.timeoutMs);
  } catch (e) {
    throw new Error(`${o.failure}: ${(e as Error).message}`);
  }
  if (o.pidFile !== undefined) text = await serverScript(o.script, "env", 30_000);
  const env = Object.fromEntries(
    text.trim().split("\n").map((l) => l.split("=", 2) as [string, string]),
  );
  const endpoint = env[o.endpointVar];
  assert(endpoint?.startsWith("http://127.0.0.1:"), `bad ${o.endpointVar} in: ${text}`);
  const tmp = await Deno.makeTempDir({ prefix: o.tmpPrefix });
  return { env, endpoint, tmp, ownServer: !wasRunning };
}

/** The last test of a file: removes its temporary folder, stops the server when `stop`. */
export async function stopServer(
  script: string,
  tmp: string | undefined,
  stop: boolean,
  ms = 60_000,
) {
  if (tmp !== undefined) await Deno.remove(tmp, { recursive: true }).catch(() => {});
  if (stop) await serverScript(script, "stop", ms);
}

let seq = 0;
/** A bucket (container) name not used before: `name-<time>-<n>`. */
export function uniqueName(name: string): string {
  return `${name}-${Date.now().toString(36)}-${seq++}`;
}

/** A StorageConfig for the in-process providers (no region, account or default credentials). */
export function storageConfig(
  provider: StorageConfig["provider"],
  bucket: string,
  endpoint: string,
  credentials: StorageConfig["credentials"] = null,
  credentialsFile: string | null = null,
): StorageConfig {
  return {
    provider,
    bucket,
    credentials,
    credentialsFile,
    defaultCredentials: false,
    region: null,
    storageAccount: null,
    endpoint,
  };
}

/** Runs the binary; `out` is its stdout as text. */
export async function run(args: string[], timeoutMs = 120_000) {
  const res = await runBin(args, { timeoutMs });
  return { ...res, out: new TextDecoder().decode(res.stdout) };
}

/** Runs the binary and throws unless it exits 0. */
export async function ok(args: string[], timeoutMs = 120_000) {
  const res = await run(args, timeoutMs);
  if (res.code !== 0) {
    throw new Error(`stitcher ${args.join(" ")} exited ${res.code}: ${res.stderr}`);
  }
  return res;
}

/** Packs with `packFlags` through `providerArgs` and into the bucket folder `folder`. */
export async function packBoth(providerArgs: string[], folder: string, packFlags: string[]) {
  await ok(["pack", ...providerArgs, ...packFlags]);
  await ok(["pack", "--provider", "file", "-b", folder, ...packFlags]);
}

/**
 * Stitches `bucket` through `providerArgs` and from the folder `${tmp}/${bucket}`,
 * both with `--strict` and `flags`, to `${tmp}/${bucket}[-tag]-{label,file}.pcap`;
 * returns the provider's run and both outputs.
 */
export async function stitchVsFile(
  tmp: string,
  bucket: string,
  label: string,
  providerArgs: string[],
  flags: string[],
  tag?: string,
) {
  const base = tag === undefined ? `${tmp}/${bucket}` : `${tmp}/${bucket}-${tag}`;
  const got = `${base}-${label}.pcap`;
  const want = `${base}-file.pcap`;
  const res = await ok([...providerArgs, "-e", got, "--strict", ...flags]);
  await ok(["--provider", "file", "-b", `${tmp}/${bucket}`, "-e", want, "--strict", ...flags]);
  const [g, w] = await Promise.all([Deno.readFile(got), Deno.readFile(want)]);
  return { res, got: g, want: w, wantPath: want };
}

/**
 * Packs PACK_FLAGS through `providerArgs` and into `${tmp}/${bucket}`, then for
 * each of `stitchFlags` checks that both stitch to the same bytes.
 */
export async function packStitchCompare(
  tmp: string,
  bucket: string,
  label: string,
  providerArgs: string[],
  stitchFlags: string[][],
) {
  await packBoth(providerArgs, `${tmp}/${bucket}`, PACK_FLAGS);
  for (const flags of stitchFlags) {
    const tag = flags.join("") || "plain";
    const { got, want, wantPath } = await stitchVsFile(
      tmp,
      bucket,
      label,
      providerArgs,
      flags,
      tag,
    );
    assert(
      want.length > 10_000,
      `reference output ${wantPath} is too small (${want.length} bytes)`,
    );
    assertBytesEqual(got, want, `${label} ${flags.join(" ")} vs file:`);
  }
}

/**
 * The listing contract on a fresh bucket, through `open(pageSize)`: 35 keys
 * under data/ listed 10 a page with sizes and mtimes, resumed after a key,
 * folders listed 2 a page, and ranged reads.
 */
export async function checkListing(open: (pageSize: number) => Promise<Storage>) {
  const s = await open(10);
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
  const s2 = await open(2);
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
}

/**
 * Stitches `bucket` through `providerArgs(proxyEndpoint)` with a report, while
 * a proxy runs `remove` (which deletes `victim`) right after the first listing
 * that `isListing` picks has been answered, before the client reads it. Only
 * `victim` may fail to read, with `detail`; the other `listed - 1` objects are read.
 */
export async function checkLostObject(o: {
  tmp: string;
  bucket: string;
  endpoint: string;
  providerArgs: (endpoint: string) => string[];
  victim: string;
  listed: number;
  detail: RegExp;
  isListing: (u: URL, method: string) => boolean;
  remove: () => Promise<void>;
}) {
  let deleted = false;
  const proxy = proxyFor(o.endpoint, {
    after: async (u, method) => {
      if (!deleted && o.isListing(u, method)) {
        deleted = true;
        await o.remove();
      }
    },
  });
  try {
    const report = `${o.tmp}/${o.bucket}-report.json`;
    const res = await runBin([
      ...o.providerArgs(proxy.endpoint),
      "-e",
      `${o.tmp}/${o.bucket}.pcap`,
      "--report",
      report,
    ]);
    assert(deleted, "the proxy never saw a listing");
    assertEquals(res.code, 1, res.stderr);
    const r = JSON.parse(await Deno.readTextFile(report));
    assertEquals(r.objects.failed, 1, JSON.stringify(r.objects));
    const problems = (r.problems as { where: string; kind: string; detail: string }[])
      .filter((p) => p.kind === "read_failed");
    assertEquals(problems.map((p) => p.where), [o.victim]);
    assertMatch(problems[0].detail, o.detail);
    assert(r.objects.read >= o.listed - 1, `objects read: ${JSON.stringify(r.objects)}`);
    assert(r.flows.opened > 0, "no flows from the other objects");
  } finally {
    await proxy.server.shutdown();
  }
}

/**
 * Packs PACK_FLAGS into `bucket` and its folder, then stitches through
 * `providerArgs(proxyEndpoint)` while a proxy cuts the first two downloads
 * that `isDownload` picks: the run must retry and give the folder's bytes.
 */
export async function checkCutResumed(o: {
  tmp: string;
  bucket: string;
  label: string;
  endpoint: string;
  providerArgs: (endpoint: string) => string[];
  isDownload: (u: URL, method: string) => boolean;
}) {
  await packBoth(o.providerArgs(o.endpoint), `${o.tmp}/${o.bucket}`, PACK_FLAGS);
  let cuts = 0;
  const proxy = proxyFor(o.endpoint, {
    cut: (u, method) => o.isDownload(u, method) && cuts++ < 2,
  });
  try {
    const { res, got, want } = await stitchVsFile(
      o.tmp,
      o.bucket,
      o.label,
      o.providerArgs(proxy.endpoint),
      [],
    );
    assertEquals(cuts >= 2, true, `downloads cut: ${cuts}`);
    assertMatch(res.stderr, /retrying op=read/);
    assertBytesEqual(got, want, "after resume:");
  } finally {
    await proxy.server.shutdown();
  }
}

/** `proxyTo` the origin of `endpoint`; `endpoint` is the same URL through the proxy. */
export function proxyFor(endpoint: string, hooks: Parameters<typeof proxyTo>[1]) {
  const up = new URL(endpoint);
  const server = proxyTo(up.origin, hooks);
  const path = up.pathname === "/" ? "" : up.pathname;
  return { server, endpoint: `http://127.0.0.1:${server.addr.port}${path}` };
}

/**
 * An HTTP proxy on 127.0.0.1 in front of the emulator. `after(req)` runs once
 * the upstream has answered and before the client gets the answer; when
 * `cut(req)` is true the answer's body breaks off after half its bytes (the
 * connection dies mid-download).
 */
export function proxyTo(
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
