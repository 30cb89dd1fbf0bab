/**
 * The `azure` provider against Azurite (Microsoft's Blob emulator) on
 * 127.0.0.1, started once for this file by tests/servers/azurite.sh and
 * stopped by the last test (unless it was already running). The CLI cases
 * run the compiled binary; the reference for every output is the same
 * capture packed and stitched with `--provider file` and identical flags.
 * Paging is tested in-process, with a page size of 10.
 *
 * When Azurite cannot be started the tests FAIL (CI installs it).
 */
import { ContainerClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { assert, assertBytesEqual, assertEquals, assertMatch } from "./assert.ts";
import { ROOT, runBin } from "./lib/bin.ts";
import { createAzureStorage } from "../plugins/sources/azure/mod.ts";
import type { StorageConfig } from "../plugins/sources/mod.ts";

const SCRIPT = `${ROOT}/tests/servers/azurite.sh`;
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
/** Azurite's published development account key (public, documented by Microsoft). */
const DEV_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const opts = { sanitizeResources: false, sanitizeOps: false };

interface Azurite {
  endpoint: string;
  account: string;
  tmp: string;
  creds: string;
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
      `tests/servers/azurite.sh ${arg} failed (exit ${out.code}): ${
        new TextDecoder().decode(out.stderr).trim()
      }`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

async function isRunning(): Promise<boolean> {
  const pid = await Deno.readTextFile(`${ROOT}/tests/.work/azurite/pid`).catch(() => "");
  if (pid.trim() === "") return false;
  return await new Deno.Command("kill", { args: ["-0", pid.trim()], stderr: "null" }).output()
    .then((o) => o.success);
}

let started: Promise<Azurite> | null = null;

/** The running Azurite; starts it on first use (install included: up to 15 min). */
function azurite(): Promise<Azurite> {
  started ??= (async () => {
    const wasRunning = await isRunning();
    try {
      await script("start", 900_000);
    } catch (e) {
      throw new Error(
        `Azurite could not be started, so the Azure tests cannot run (CI installs it): ${
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
      env.AZURITE_ENDPOINT?.startsWith("http://127.0.0.1:"),
      `bad AZURITE_ENDPOINT: ${env.AZURITE_ENDPOINT}`,
    );
    const tmp = await Deno.makeTempDir({ prefix: "stitcher-azure-" });
    const creds = `${tmp}/creds.json`;
    await Deno.writeTextFile(creds, JSON.stringify({ access_key: DEV_KEY }));
    return {
      endpoint: env.AZURITE_ENDPOINT,
      account: env.AZURITE_ACCOUNT,
      tmp,
      creds,
      ownServer: !wasRunning,
    };
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
function newContainer(name: string): string {
  return `${name}-${Date.now().toString(36)}-${seq++}`;
}

function container(a: Azurite, name: string): ContainerClient {
  return new ContainerClient(
    `${a.endpoint}/${name}`,
    new StorageSharedKeyCredential(a.account, DEV_KEY),
  );
}

function azArgs(endpoint: string, creds: string, name: string): string[] {
  return ["--provider", "azure", "--endpoint-url", endpoint, "-c", creds, "-b", name];
}

async function ok(args: string[], timeoutMs = 120_000) {
  const res = await runBin(args, { timeoutMs });
  if (res.code !== 0) {
    throw new Error(`stitcher ${args.join(" ")} exited ${res.code}: ${res.stderr}`);
  }
  return res;
}

function config(a: Azurite, name: string): StorageConfig {
  return {
    provider: "azure",
    bucket: name,
    credentials: { access_key: DEV_KEY },
    credentialsFile: a.creds,
    defaultCredentials: false,
    region: null,
    storageAccount: null,
    endpoint: a.endpoint,
  };
}

/** Packs the capture to Azure and to a folder with the same flags; stitches both with `stitchFlags`. */
async function stitchBoth(a: Azurite, name: string, stitchFlags: string[][]) {
  const folder = `${a.tmp}/${name}`;
  await ok(["pack", ...azArgs(a.endpoint, a.creds, name), ...PACK_FLAGS]);
  await ok(["pack", "--provider", "file", "-b", folder, ...PACK_FLAGS]);
  for (const flags of stitchFlags) {
    const tag = flags.join("") || "plain";
    const got = `${a.tmp}/${name}-${tag}-azure.pcap`;
    const want = `${a.tmp}/${name}-${tag}-file.pcap`;
    await ok([...azArgs(a.endpoint, a.creds, name), "-e", got, "--strict", ...flags]);
    await ok(["--provider", "file", "-b", folder, "-e", want, "--strict", ...flags]);
    const [g, w] = await Promise.all([Deno.readFile(got), Deno.readFile(want)]);
    assert(w.length > 10_000, `reference output ${want} is too small (${w.length} bytes)`);
    assertBytesEqual(g, w, `azure ${flags.join(" ")} vs file:`);
  }
}

Deno.test({
  name: "azure: pack then stitch gives the file provider's bytes, plain and --with-decrypted",
  ...opts,
  async fn() {
    const a = await azurite();
    await stitchBoth(a, newContainer("rt"), [[], ["--with-decrypted"]]);
  },
});

Deno.test({
  name: "azure: list pages through 35 blobs 10 at a time, resumes after a key, lists folders",
  ...opts,
  async fn() {
    const a = await azurite();
    const name = newContainer("page");
    await container(a, name).create();
    const s = await createAzureStorage(config(a, name), { pageSize: 10 });
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
    const s2 = await createAzureStorage(config(a, name), { pageSize: 2 });
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
  name: "azure: a wrong access key fails in one line naming the container, never the key",
  ...opts,
  async fn() {
    const a = await azurite();
    const name = newContainer("auth");
    await container(a, name).create();
    const wrongKey = "WRONG" + DEV_KEY.slice(5);
    const creds = `${a.tmp}/wrong.json`;
    await Deno.writeTextFile(creds, JSON.stringify({ access_key: wrongKey }));
    const res = await runBin([...azArgs(a.endpoint, creds, name), "-e", `${a.tmp}/x.pcap`]);
    assertEquals(res.code, 1, res.stderr);
    const lines = res.stderr.trim().split("\n");
    assertEquals(lines.length, 1, res.stderr);
    assertMatch(
      lines[0],
      new RegExp(`Azure container ${name} in account devstoreaccount1: access denied`),
    );
    const out = res.stderr + new TextDecoder().decode(res.stdout);
    for (const secret of [wrongKey, wrongKey.slice(0, 20), DEV_KEY.slice(10, 30)]) {
      assert(!out.includes(secret), "the access key was printed");
    }
    const bad = await runBin([
      ...azArgs(a.endpoint, `${a.tmp}/nokey.json`, name),
      "-e",
      `${a.tmp}/x.pcap`,
    ]);
    assertEquals(bad.code, 2, bad.stderr);
    await Deno.writeTextFile(`${a.tmp}/notb64.json`, JSON.stringify({ access_key: "s3cr3t!!" }));
    const notB64 = await runBin([
      ...azArgs(a.endpoint, `${a.tmp}/notb64.json`, name),
      "-e",
      `${a.tmp}/x.pcap`,
    ]);
    assertEquals(notB64.code, 2, notB64.stderr);
    assertMatch(notB64.stderr, /access_key in .*notb64\.json is not base64/);
    assert(!notB64.stderr.includes("s3cr3t"), "the access key was printed");
  },
});

Deno.test({
  name: "azure: --default-credentials azure without usable credentials fails in one line",
  ...opts,
  async fn() {
    const a = await azurite();
    // Only EnvironmentCredential, with no variables set: no token request is made anywhere.
    const env = {
      AZURE_TOKEN_CREDENTIALS: "EnvironmentCredential",
      AZURE_TENANT_ID: "",
      AZURE_CLIENT_ID: "",
      AZURE_CLIENT_SECRET: "",
      AZURE_CLIENT_CERTIFICATE_PATH: "",
      AZURE_USERNAME: "",
    };
    const account = new URL(a.endpoint).pathname;
    const args = ["--provider", "azure", "--default-credentials", "azure", "-e", "/dev/null"];
    const res = await runBin([...args, "--endpoint-url", `https://127.0.0.1:1${account}`], { env });
    assertEquals(res.code, 1, res.stderr);
    assertEquals(res.stderr.trim().split("\n").length, 1, res.stderr);
    assertMatch(
      res.stderr,
      /Azure container netskope in account devstoreaccount1: no usable Azure credentials/,
    );
    const http = await runBin([...args, "--endpoint-url", a.endpoint], { env });
    assertEquals(http.code, 2, http.stderr);
    assertMatch(http.stderr, /is not https, which --default-credentials azure needs/);
  },
});

Deno.test({
  name: "azure: a missing container fails clearly, and no credentials is a usage error",
  ...opts,
  async fn() {
    const a = await azurite();
    const name = newContainer("nope");
    const res = await runBin([...azArgs(a.endpoint, a.creds, name), "-e", `${a.tmp}/x.pcap`]);
    assertEquals(res.code, 1, res.stderr);
    assertEquals(res.stderr.trim().split("\n").length, 1, res.stderr);
    assertMatch(
      res.stderr,
      new RegExp(
        `Azure container ${name} in account devstoreaccount1: the container does not exist`,
      ),
    );
    const noCreds = await runBin([
      "--provider",
      "azure",
      "--endpoint-url",
      a.endpoint,
      "-b",
      name,
      "-e",
      `${a.tmp}/x.pcap`,
    ]);
    assertEquals(noCreds.code, 2, noCreds.stderr);
    assertMatch(noCreds.stderr, /-c\/--credentials FILE .* or --default-credentials azure/);
    const badName = await runBin([...azArgs(a.endpoint, a.creds, "Bad_Name"), "-e", "/dev/null"]);
    assertEquals(badName.code, 2, badName.stderr);
    assertMatch(badName.stderr, /'Bad_Name' is not an Azure container name/);
  },
});

Deno.test({
  name: "azure: a blob deleted between list and get is reported by key, exit 1, the rest intact",
  ...opts,
  async fn() {
    const a = await azurite();
    const name = newContainer("gone");
    await ok(["pack", ...azArgs(a.endpoint, a.creds, name), ...PACK_FLAGS]);
    const c = container(a, name);
    const data: string[] = [];
    for await (const b of c.listBlobsFlat({ prefix: "data/" })) data.push(b.name);
    assert(data.length >= 3, `expected several data objects, got ${data}`);
    const victim = data[1];
    // A proxy in front of Azurite deletes the victim right after the first
    // listing of data/ has been answered, before the client reads the answer.
    const up = new URL(a.endpoint);
    let deleted = false;
    const proxy = proxyTo(up.origin, {
      after: async (u) => {
        if (!deleted && u.searchParams.get("comp") === "list") {
          deleted = true;
          await c.deleteBlob(victim);
        }
      },
    });
    try {
      const endpoint = `http://127.0.0.1:${proxy.addr.port}${up.pathname}`;
      const report = `${a.tmp}/${name}-report.json`;
      const res = await runBin([
        ...azArgs(endpoint, a.creds, name),
        "-e",
        `${a.tmp}/${name}.pcap`,
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
      assertMatch(problems[0].detail, /no blob .* \(HTTP 404 BlobNotFound\)/);
      assert(r.objects.read >= data.length - 1, `objects read: ${JSON.stringify(r.objects)}`);
      assert(r.flows.opened > 0, "no flows from the other objects");
    } finally {
      await proxy.shutdown();
    }
  },
});

Deno.test({
  name: "azure: a download cut midway is resumed with a ranged read, output unchanged",
  ...opts,
  async fn() {
    const a = await azurite();
    const name = newContainer("cut");
    await ok(["pack", ...azArgs(a.endpoint, a.creds, name), ...PACK_FLAGS]);
    await ok(["pack", "--provider", "file", "-b", `${a.tmp}/${name}`, ...PACK_FLAGS]);
    const up = new URL(a.endpoint);
    let cuts = 0;
    const proxy = proxyTo(up.origin, {
      cut: (u, method) => {
        const blobGet = method === "GET" && !u.searchParams.has("comp") &&
          u.pathname.includes("/data/");
        return blobGet && cuts++ < 2;
      },
    });
    try {
      const endpoint = `http://127.0.0.1:${proxy.addr.port}${up.pathname}`;
      const got = `${a.tmp}/${name}-azure.pcap`;
      const want = `${a.tmp}/${name}-file.pcap`;
      const res = await ok([...azArgs(endpoint, a.creds, name), "-e", got, "--strict"]);
      await ok(["--provider", "file", "-b", `${a.tmp}/${name}`, "-e", want, "--strict"]);
      assertEquals(cuts >= 2, true, `downloads cut: ${cuts}`);
      assertMatch(res.stderr, /retrying op=read/);
      assertBytesEqual(await Deno.readFile(got), await Deno.readFile(want), "after resume:");
    } finally {
      await proxy.shutdown();
    }
  },
});

Deno.test({
  name: "azure: stop Azurite (last test of this file)",
  ...opts,
  async fn() {
    if (started === null) return;
    const a = await started;
    await Deno.remove(a.tmp, { recursive: true }).catch(() => {});
    if (a.ownServer) await script("stop", 60_000);
  },
});
