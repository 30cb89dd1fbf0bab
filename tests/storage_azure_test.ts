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
  uniqueName as newContainer,
} from "./lib/storage.ts";
import { createAzureStorage } from "../plugins/sources/azure/mod.ts";
import type { StorageConfig } from "../plugins/sources/mod.ts";

const SCRIPT = "azurite.sh";
/** Azurite's published development account key (public, documented by Microsoft). */
const DEV_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

interface Azurite extends Server {
  account: string;
  creds: string;
}

let started: Promise<Azurite> | null = null;

/** The running Azurite; starts it on first use (install included: up to 15 min). */
function azurite(): Promise<Azurite> {
  started ??= (async () => {
    const server = await startServer({
      script: SCRIPT,
      timeoutMs: 900_000,
      failure: "Azurite could not be started, so the Azure tests cannot run (CI installs it)",
      endpointVar: "AZURITE_ENDPOINT",
      tmpPrefix: "stitcher-azure-",
      pidFile: "tests/.work/azurite/pid",
    });
    const creds = `${server.tmp}/creds.json`;
    await Deno.writeTextFile(creds, JSON.stringify({ access_key: DEV_KEY }));
    return { ...server, account: server.env.AZURITE_ACCOUNT, creds };
  })();
  return started;
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

function config(a: Azurite, name: string): StorageConfig {
  return storageConfig("azure", name, a.endpoint, { access_key: DEV_KEY }, a.creds);
}

Deno.test({
  name: "azure: pack then stitch gives the file provider's bytes, plain and --with-decrypted",
  ...opts,
  async fn() {
    const a = await azurite();
    const name = newContainer("rt");
    await packStitchCompare(a.tmp, name, "azure", azArgs(a.endpoint, a.creds, name), [
      [],
      ["--with-decrypted"],
    ]);
  },
});

Deno.test({
  name: "azure: list pages through 35 blobs 10 at a time, resumes after a key, lists folders",
  ...opts,
  async fn() {
    const a = await azurite();
    const name = newContainer("page");
    await container(a, name).create();
    await checkListing((pageSize) => createAzureStorage(config(a, name), { pageSize }));
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
    await checkLostObject({
      tmp: a.tmp,
      bucket: name,
      endpoint: a.endpoint,
      providerArgs: (endpoint) => azArgs(endpoint, a.creds, name),
      victim,
      listed: data.length,
      detail: /no blob .* \(HTTP 404 BlobNotFound\)/,
      isListing: (u) => u.searchParams.get("comp") === "list",
      remove: async () => {
        await c.deleteBlob(victim);
      },
    });
  },
});

Deno.test({
  name: "azure: a download cut midway is resumed with a ranged read, output unchanged",
  ...opts,
  async fn() {
    const a = await azurite();
    const name = newContainer("cut");
    await checkCutResumed({
      tmp: a.tmp,
      bucket: name,
      label: "azure",
      endpoint: a.endpoint,
      providerArgs: (endpoint) => azArgs(endpoint, a.creds, name),
      isDownload: (u, method) =>
        method === "GET" && !u.searchParams.has("comp") && u.pathname.includes("/data/"),
    });
  },
});

Deno.test({
  name: "azure: stop Azurite (last test of this file)",
  ...opts,
  async fn() {
    if (started === null) return;
    const a = await started;
    await stopServer(SCRIPT, a.tmp, a.ownServer);
  },
});
