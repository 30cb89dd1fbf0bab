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
import { runBunScript } from "../../tests/lib/bin.ts";
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

// Under Bun the five libcrypto calls of an open run behind one native call
// (TinyCC); a Bun child checks that path against @noble on every AEAD, sizes
// around the block and tag edges, empty AAD, flipped bytes, short input and
// interleaved keys.
const ONE_CALL_CHILD = `
import { opensslBackend } from "./plugins/crypto/openssl.ts";
import { nativeBackend } from "./plugins/crypto/native.ts";
import { nobleBackend } from "./core/tls/noble_backend.ts";
import { mulberry32 } from "./tests/lib/random.ts";
const b = await opensslBackend(nativeBackend());
const rnd = mulberry32(31337);
const bytes = (n) => Uint8Array.from({ length: n }, () => (rnd() * 256) | 0);
let opened = 0, wrong = 0, accepted = 0;
const keys = [bytes(32), bytes(32), bytes(16), bytes(16)];
for (const alg of ["aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"]) {
  for (const len of [0, 1, 15, 16, 17, 63, 64, 65, 255, 1000, 2999, 16383, 16384, 16640]) {
    for (let k = 0; k < 2; k++) {
      const key = keys[(alg === "aes-128-gcm" ? 2 : 0) + k].slice();
      const nonce = bytes(12), aad = len % 3 === 0 ? new Uint8Array(0) : bytes(13), plain = bytes(len);
      const sealed = nobleBackend.aeadSeal(alg, key, nonce, aad, plain);
      const got = b.aeadOpen(alg, key, nonce, aad, sealed);
      opened++;
      if (got === null || got.length !== len || got.some((x, i) => x !== plain[i])) wrong++;
      for (const at of [0, sealed.length - 1, sealed.length - 16]) {
        const bad = sealed.slice();
        bad[at] ^= 0x40;
        if (b.aeadOpen(alg, key, nonce, aad, bad) !== null) accepted++;
      }
      if (aad.length > 0) {
        const badAad = aad.slice();
        badAad[5] ^= 1;
        if (b.aeadOpen(alg, key, nonce, badAad, sealed) !== null) accepted++;
      }
      if (b.aeadOpen(alg, key, nonce, aad, sealed.subarray(0, 15)) !== null) accepted++;
    }
  }
}
console.log(JSON.stringify({ name: b.name, opened, wrong, accepted }));
`;

Deno.test("opensslBackend under Bun opens in one native call, like @noble, refusing every altered input", async () => {
  const { result: r, stderr } = await runBunScript<{
    name: string;
    opened: number;
    wrong: number;
    accepted: number;
  }>(ONE_CALL_CHILD);
  // Every machine this suite runs on is x86-64 with Bun's TinyCC (see ../shared/notes).
  assert(r.name.includes("one call an open"), `${r.name} ${stderr}`);
  assertEquals(r.opened, 84);
  assertEquals(r.wrong, 0);
  assertEquals(r.accepted, 0);
});
