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
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { runBin } from "./lib/bin.ts";
import {
  checkCutResumed,
  checkListing,
  checkLostObject,
  ok,
  opts,
  PACK_FLAGS,
  packStitchCompare,
  type Server,
  startServer,
  stopServer,
  storageConfig,
  uniqueName as newBucket,
} from "./lib/storage.ts";
import { createGcsStorage } from "../plugins/sources/gcs/mod.ts";
import type { StorageConfig } from "../plugins/sources/mod.ts";

const SCRIPT = "gcs_emulator.sh";

let started: Promise<Server> | null = null;

/** The running emulator; starts it on first use (install included: up to 15 min). */
function emulator(): Promise<Server> {
  started ??= startServer({
    script: SCRIPT,
    timeoutMs: 900_000,
    failure: "the GCS emulator could not be started, so the GCS tests cannot run (CI installs it)",
    endpointVar: "GCS_EMULATOR_ENDPOINT",
    tmpPrefix: "stitcher-gcs-",
    pidFile: "tests/.work/gcs/pid",
  });
  return started;
}

function gcsArgs(endpoint: string, bucket: string): string[] {
  return ["--provider", "gcp", "--endpoint-url", endpoint, "-b", bucket];
}

function config(e: Server, bucket: string): StorageConfig {
  return storageConfig("gcp", bucket, e.endpoint);
}

async function listKeys(e: Server, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of (await createGcsStorage(config(e, bucket))).list(prefix)) keys.push(o.key);
  return keys;
}

Deno.test({
  name: "gcs: pack then stitch gives the file provider's bytes, plain and --with-decrypted",
  ...opts,
  async fn() {
    const e = await emulator();
    const bucket = newBucket("rt");
    await packStitchCompare(e.tmp, bucket, "gcs", gcsArgs(e.endpoint, bucket), [
      [],
      ["--with-decrypted"],
    ]);
  },
});

Deno.test({
  name: "gcs: list pages through 35 objects 10 at a time, resumes after a key, lists folders",
  ...opts,
  async fn() {
    const e = await emulator();
    const bucket = newBucket("page");
    await checkListing((pageSize) => createGcsStorage(config(e, bucket), { pageSize }));
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
    await checkLostObject({
      tmp: e.tmp,
      bucket,
      endpoint: e.endpoint,
      providerArgs: (endpoint) => gcsArgs(endpoint, bucket),
      victim,
      listed: data.length,
      detail: /no object .* \(HTTP 404\)/,
      isListing: (u, method) => method === "GET" && /\/b\/[^/]+\/o$/.test(u.pathname),
      remove: async () => {
        const del = await fetch(
          `${e.endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(victim)}`,
          { method: "DELETE" },
        );
        await del.body?.cancel();
        assert(del.ok, `DELETE ${victim}: HTTP ${del.status}`);
      },
    });
  },
});

Deno.test({
  name: "gcs: a download cut midway is resumed with a ranged read, output unchanged",
  ...opts,
  async fn() {
    const e = await emulator();
    const bucket = newBucket("cut");
    await checkCutResumed({
      tmp: e.tmp,
      bucket,
      label: "gcs",
      endpoint: e.endpoint,
      providerArgs: (endpoint) => gcsArgs(endpoint, bucket),
      isDownload: (u, method) =>
        method === "GET" && u.searchParams.get("alt") === "media" &&
        decodeURIComponent(u.pathname).includes("/data/"),
    });
  },
});

Deno.test({
  name: "gcs: stop the emulator (last test of this file)",
  ...opts,
  async fn() {
    if (started === null) return;
    const e = await started;
    await stopServer(SCRIPT, e.tmp, e.ownServer);
  },
});
