import { assertEquals, assertRejects, assertThrows } from "../../../tests/assert.ts";
import { UsageError } from "../../../core/run/cli.ts";
import { SourceError } from "../../../core/plugin.ts";
import type { StorageConfig } from "../mod.ts";
import { classifyS3Error, createS3Storage, parseS3Credentials } from "./mod.ts";

const s3Error = (name: string, status?: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

Deno.test("classifyS3Error() maps S3 codes, HTTP statuses and socket errors to kinds", () => {
  const cases: [unknown, string, boolean][] = [
    [s3Error("AccessDenied", 403), "auth", false],
    [s3Error("InvalidAccessKeyId", 403), "auth", false],
    [s3Error("SignatureDoesNotMatch", 403), "auth", false],
    [s3Error("ExpiredToken", 400), "auth", false],
    [s3Error("NoSuchBucket", 404), "no_bucket", false],
    [s3Error("NoSuchKey", 404), "not_found", false],
    [s3Error("NotFound", 404), "not_found", false],
    [s3Error("SlowDown", 503), "throttled", true],
    [s3Error("Unknown", 429), "throttled", true],
    [s3Error("RequestTimeout", 400), "timeout", true],
    [s3Error("InternalError", 500), "server", true],
    [s3Error("Unknown", 502), "server", true],
    [Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "network", true],
    [Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }), "network", true],
    [new Error("socket hang up"), "network", true],
    [s3Error("InvalidArgument", 400), "other", false],
  ];
  for (const [e, kind, retryable] of cases) {
    const c = classifyS3Error(e);
    assertEquals([c.kind, c.retryable], [kind, retryable], `${(e as Error).name}`);
  }
});

Deno.test("parseS3Credentials() names a missing or bad field, never a value", () => {
  assertEquals(parseS3Credentials({ access_key_id: "A", secret_access_key: "S" }, "c.json"), {
    accessKeyId: "A",
    secretAccessKey: "S",
  });
  assertEquals(
    parseS3Credentials({ access_key_id: "A", secret_access_key: "S", session_token: "T" }, "c"),
    { accessKeyId: "A", secretAccessKey: "S", sessionToken: "T" },
  );
  assertThrows(
    () => parseS3Credentials({ access_key_id: "A" }, "c.json"),
    UsageError,
    "credentials file c.json: missing field secret_access_key",
  );
  const e = assertThrows(
    () => parseS3Credentials({ access_key_id: "TOPSECRETID", secret_access_key: 7 }, "c.json"),
    UsageError,
  ) as Error;
  assertEquals(e.message.includes("TOPSECRETID"), false);
  assertEquals(e.message.startsWith("credentials file c.json: bad field secret_access_key"), true);
});

const cfg = (over: Partial<StorageConfig>): StorageConfig => ({
  provider: "aws",
  bucket: "b",
  credentials: null,
  credentialsFile: null,
  defaultCredentials: false,
  region: null,
  storageAccount: null,
  endpoint: null,
  ...over,
});

Deno.test("createS3Storage() needs credentials or the default chain, and a URL endpoint", async () => {
  await assertRejects(
    () => createS3Storage(cfg({})),
    UsageError,
    "--provider aws needs -c FILE or --default-aws-credentials",
  );
  await assertRejects(
    () => createS3Storage(cfg({ defaultCredentials: true, endpoint: "127.0.0.1:9" })),
    UsageError,
    "flag --endpoint-url: '127.0.0.1:9' is not a URL",
  );
  const s = await createS3Storage(
    cfg({ defaultCredentials: true, endpoint: "http://127.0.0.1:9" }),
  );
  assertEquals(s.describe, "S3 bucket b");
});

Deno.test({
  name: "S3 source: a refused connection is a retryable network error naming bucket and endpoint",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = l.addr.port;
    l.close();
    const s = await createS3Storage(cfg({
      credentials: { access_key_id: "A", secret_access_key: "S" },
      endpoint: `http://127.0.0.1:${port}`,
    }));
    const e = await assertRejects(async () => {
      for await (const _ of s.list("data/")) { /* nothing */ }
    }, SourceError) as SourceError;
    assertEquals([e.kind, e.retryable], ["network", true]);
    assertEquals(
      e.message,
      `S3 bucket b at http://127.0.0.1:${port}: connection failed (ECONNREFUSED) listing data/`,
    );
  },
});
