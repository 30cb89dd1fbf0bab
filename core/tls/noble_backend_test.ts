import { cbc } from "@noble/ciphers/aes.js";
import { assert, assertThrows } from "../../tests/assert.ts";
import { nobleBackend } from "./noble_backend.ts";
import { backendCases } from "./test_vectors.ts";

const encryptCbc = (key: Uint8Array, iv: Uint8Array, data: Uint8Array) =>
  cbc(key, iv, { disablePadding: true }).encrypt(data);

for (const c of backendCases(encryptCbc)) {
  Deno.test(`nobleBackend: ${c.name}`, () => c.run(nobleBackend));
}

Deno.test("nobleBackend supports every AEAD and CBC cipher", () => {
  for (
    const alg of [
      "aes-128-gcm",
      "aes-256-gcm",
      "chacha20-poly1305",
      "aes-128-cbc",
      "aes-256-cbc",
    ] as const
  ) {
    assert(nobleBackend.supports(alg), alg);
  }
});

Deno.test("nobleBackend rejects a key of the wrong length, naming the lengths", () => {
  const z = new Uint8Array(12);
  assertThrows(
    () => nobleBackend.aeadOpen("aes-128-gcm", new Uint8Array(32), z, z, new Uint8Array(32)),
    Error,
    "aes-128-gcm needs a 16-byte key, got 32 bytes",
  );
  assertThrows(
    () =>
      nobleBackend.cbcDecrypt(
        "aes-256-cbc",
        new Uint8Array(16),
        new Uint8Array(16),
        new Uint8Array(16),
      ),
    Error,
    "aes-256-cbc needs a 32-byte key, got 16 bytes",
  );
});
