import { assert, assertEquals } from "../../tests/assert.ts";
import { AEAD_TAG_LEN, CIPHER_SUITES, suiteById } from "./cipher_suites.ts";

Deno.test("CIPHER_SUITES has 30 suites with unique ids and names", () => {
  assertEquals(CIPHER_SUITES.length, 30);
  assertEquals(new Set(CIPHER_SUITES.map((s) => s.id)).size, 30);
  assertEquals(new Set(CIPHER_SUITES.map((s) => s.name)).size, 30);
  assertEquals(AEAD_TAG_LEN, 16);
});

Deno.test("suiteById() describes TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256", () => {
  assertEquals(suiteById(0x1302), {
    id: 0x1302,
    name: "TLS_AES_256_GCM_SHA384",
    version: "1.3",
    kind: "aead",
    aead: "aes-256-gcm",
    keyLen: 32,
    fixedIvLen: 12,
    recordIvLen: 0,
    macLen: 0,
    prfHash: "sha384",
  });
  assertEquals(suiteById(0x1303)?.aead, "chacha20-poly1305");
  assertEquals(suiteById(0x1303)?.prfHash, "sha256");
});

Deno.test("suiteById() gives GCM, ChaCha20 and CBC TLS 1.2 suites their RFC lengths", () => {
  const gcm = suiteById(0xc030)!;
  assertEquals([gcm.aead, gcm.keyLen, gcm.fixedIvLen, gcm.recordIvLen, gcm.prfHash], [
    "aes-256-gcm",
    32,
    4,
    8,
    "sha384",
  ]);
  const gcm128 = suiteById(0x009e)!;
  assertEquals([gcm128.aead, gcm128.keyLen, gcm128.prfHash], ["aes-128-gcm", 16, "sha256"]);
  const chacha = suiteById(0xccaa)!;
  assertEquals([chacha.name, chacha.keyLen, chacha.fixedIvLen, chacha.recordIvLen], [
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    32,
    12,
    0,
  ]);
  const sha1 = suiteById(0x0035)!;
  assertEquals([
    sha1.name,
    sha1.cbc,
    sha1.macHash,
    sha1.macLen,
    sha1.prfHash,
    sha1.fixedIvLen,
    sha1.recordIvLen,
  ], [
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "aes-256-cbc",
    "sha1",
    20,
    "sha256",
    0,
    16,
  ]);
  const sha256 = suiteById(0x0067)!;
  assertEquals([sha256.cbc, sha256.macHash, sha256.macLen, sha256.prfHash], [
    "aes-128-cbc",
    "sha256",
    32,
    "sha256",
  ]);
  const sha384 = suiteById(0xc024)!;
  assertEquals([sha384.cbc, sha384.macHash, sha384.macLen, sha384.prfHash], [
    "aes-256-cbc",
    "sha384",
    48,
    "sha384",
  ]);
});

Deno.test("every suite's fields agree with its name", () => {
  for (const s of CIPHER_SUITES) {
    assertEquals(s.keyLen, s.name.includes("AES_128") ? 16 : 32, s.name);
    assertEquals(s.kind === "cbc", s.name.includes("_CBC_"), s.name);
    assertEquals(s.version === "1.3", !s.name.includes("_WITH_"), s.name);
    if (s.kind === "aead") {
      assert(s.aead !== undefined && s.macLen === 0 && s.cbc === undefined, s.name);
    } else assert(s.cbc !== undefined && s.macHash !== undefined && s.aead === undefined, s.name);
  }
});

Deno.test("suiteById() is undefined for a suite we do not decrypt", () => {
  assertEquals(suiteById(0x000a), undefined);
  assertEquals(suiteById(0x1304), undefined);
});
