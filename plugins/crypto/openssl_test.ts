/**
 * The libcrypto (FFI) backend, here through Deno.dlopen; the compiled binary
 * loads the same library through bun:ffi, which tests/tls_e2e_test.ts checks
 * (its output equals `--crypto noble`'s byte for byte).
 */
import { cbc } from "@noble/ciphers/aes.js";
import { assert, assertBytesEqual, assertEquals, assertThrows } from "../../tests/assert.ts";
import type { AeadAlg, CipherBackend } from "../../core/tls/crypto.ts";
import { nobleBackend } from "../../core/tls/noble_backend.ts";
import { backendCases } from "../../core/tls/test_vectors.ts";
import { assertFixtureDecrypts } from "../../tests/lib/transcript.ts";
import { nativeBackend } from "./native.ts";
import { opensslBackend } from "./openssl.ts";

const loaded = await opensslBackend(nativeBackend());
// Debian's libssl3 is on every machine these tests run on (curl and tshark need it).
Deno.test("opensslBackend loads the system's libcrypto and opens every AEAD with it", () => {
  assert(loaded !== null, "no libcrypto.so.3 / .so.1.1 could be loaded");
  assert(/^openssl \(libcrypto\.so[.0-9]*\) \+ node:crypto$/.test(loaded.name), loaded.name);
  for (const alg of ["aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"] as const) {
    assert(loaded.supports(alg), alg);
  }
});
const openssl = loaded as CipherBackend;

const encryptCbc = (key: Uint8Array, iv: Uint8Array, data: Uint8Array) =>
  cbc(key, iv, { disablePadding: true }).encrypt(data);
for (const c of backendCases(encryptCbc)) {
  Deno.test(`opensslBackend: ${c.name}`, () => c.run(openssl));
}

function rng(seed: number) {
  let x = seed;
  return (n: number) => new Uint8Array(n).map(() => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
}

Deno.test("opensslBackend opens what @noble seals, every size up to 16 KiB + 256, refuses flipped tags", () => {
  const rand = rng(777);
  for (const alg of ["aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"] as AeadAlg[]) {
    for (const len of [0, 1, 15, 16, 17, 255, 1000, 16383, 16384, 16384 + 256]) {
      const key = rand(alg === "aes-128-gcm" ? 16 : 32), nonce = rand(12), aad = rand(13);
      const plain = rand(len);
      const sealed = nobleBackend.aeadSeal(alg, key, nonce, aad, plain);
      assertBytesEqual(openssl.aeadOpen(alg, key, nonce, aad, sealed)!, plain, `${alg} ${len}`);
      sealed[sealed.length - 1] ^= 0x80;
      assertEquals(openssl.aeadOpen(alg, key, nonce, aad, sealed), null, `${alg} ${len} flipped`);
      assertEquals(openssl.aeadOpen(alg, key, nonce, aad, sealed.subarray(0, 15)), null);
    }
  }
});

Deno.test("opensslBackend keeps one context per key: interleaved keys, nonces and a key reused for another cipher", () => {
  // Two directions' keys alternate record by record, as two flows' do; a failed
  // open in between must not disturb the next; then a 32-byte key object is
  // used for ChaCha20-Poly1305 after AES-256-GCM (the context is rebuilt).
  const rand = rng(4242);
  const keys = [rand(16), rand(16)];
  for (let seq = 0; seq < 50; seq++) {
    for (const key of keys) {
      const nonce = rand(12), aad = rand(13), plain = rand(1 + seq * 37);
      const sealed = nobleBackend.aeadSeal("aes-128-gcm", key, nonce, aad, plain);
      if (seq % 7 === 3) {
        const bad = sealed.slice();
        bad[0] ^= 1;
        assertEquals(openssl.aeadOpen("aes-128-gcm", key, nonce, aad, bad), null);
      }
      assertBytesEqual(openssl.aeadOpen("aes-128-gcm", key, nonce, aad, sealed)!, plain);
    }
  }
  const key = rand(32), nonce = rand(12), aad = rand(5), plain = rand(300);
  for (const alg of ["aes-256-gcm", "chacha20-poly1305", "aes-256-gcm"] as AeadAlg[]) {
    const sealed = nobleBackend.aeadSeal(alg, key, nonce, aad, plain);
    assertBytesEqual(openssl.aeadOpen(alg, key, nonce, aad, sealed)!, plain, alg);
  }
});

Deno.test("opensslBackend rejects a key or nonce of the wrong length, naming the lengths", () => {
  const z = new Uint8Array(12);
  assertThrows(
    () => openssl.aeadOpen("aes-256-gcm", new Uint8Array(16), z, z, new Uint8Array(32)),
    Error,
    "aes-256-gcm needs a 32-byte key, got 16 bytes",
  );
  assertThrows(
    () => openssl.aeadOpen("aes-128-gcm", new Uint8Array(16), z.subarray(0, 8), z, z),
    Error,
    "aes-128-gcm needs a 12-byte nonce, got 8",
  );
});

for (const name of ["tls12_v4", "tls13_v6", "concurrent_25"]) {
  Deno.test(`${name}.pcap decrypts with its key log to the server's plaintext (opensslBackend)`, async () => {
    await assertFixtureDecrypts(name, openssl);
  });
}
