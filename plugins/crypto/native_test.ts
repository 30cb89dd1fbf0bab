import { createHmac } from "node:crypto";
import { cbc } from "@noble/ciphers/aes.js";
import { assert, assertBytesEqual, assertEquals, assertThrows } from "../../tests/assert.ts";
import type { AeadAlg } from "../../core/tls/crypto.ts";
import {
  hkdfExpandLabel,
  nextTrafficSecret13,
  prf12,
  trafficKeys13,
} from "../../core/tls/key_schedule.ts";
import { suiteById } from "../../core/tls/cipher_suites.ts";
import { nobleBackend } from "../../core/tls/noble_backend.ts";
import { backendCases, RFC8448 } from "../../core/tls/test_vectors.ts";
import { assertFixtureDecrypts } from "../../tests/lib/transcript.ts";
import { runBunScript } from "../../tests/lib/bin.ts";
import { nativeBackend } from "./native.ts";

const native = nativeBackend();
const encryptCbc = (key: Uint8Array, iv: Uint8Array, data: Uint8Array) =>
  cbc(key, iv, { disablePadding: true }).encrypt(data);

for (const c of backendCases(encryptCbc)) {
  Deno.test(`nativeBackend: ${c.name}`, () => c.run(native));
}

Deno.test("nativeBackend() probes AES-GCM, AES-CBC and (where the runtime has it) ChaCha20-Poly1305", () => {
  for (const alg of ["aes-128-gcm", "aes-256-gcm", "aes-128-cbc", "aes-256-cbc"] as const) {
    assert(native.supports(alg), alg);
  }
  // Deno's node:crypto has ChaCha20-Poly1305; Bun's has not.
  assertEquals(native.supports("chacha20-poly1305"), !("Bun" in globalThis));
});

Deno.test("nativeBackend and nobleBackend open each other's records of every size up to 16 KiB", () => {
  const algs: AeadAlg[] = ["aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"];
  let x = 12345;
  const rand = (n: number) =>
    new Uint8Array(n).map(() => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
  for (const alg of algs) {
    if (!native.supports(alg)) continue;
    for (const len of [0, 1, 15, 16, 17, 255, 1000, 16383, 16384, 16384 + 256]) {
      const key = rand(alg === "aes-128-gcm" ? 16 : 32),
        nonce = rand(12),
        aad = rand(13),
        plain = rand(len);
      const a = native.aeadSeal(alg, key, nonce, aad, plain);
      const b = nobleBackend.aeadSeal(alg, key, nonce, aad, plain);
      assertBytesEqual(a, b, `${alg} ${len}`);
      assertBytesEqual(nobleBackend.aeadOpen(alg, key, nonce, aad, a)!, plain);
      assertBytesEqual(native.aeadOpen(alg, key, nonce, aad, b)!, plain);
      assertEquals(
        Object.getPrototypeOf(native.aeadOpen(alg, key, nonce, aad, b)),
        Uint8Array.prototype,
      );
    }
  }
});

Deno.test("nativeBackend rejects a key of the wrong length, naming the lengths", () => {
  const z = new Uint8Array(12);
  assertThrows(
    () => native.aeadOpen("aes-256-gcm", new Uint8Array(16), z, z, new Uint8Array(32)),
    Error,
    "aes-256-gcm needs a 32-byte key, got 16 bytes",
  );
});

Deno.test('nextTrafficSecret13() matches HMAC-SHA256 over the RFC 8446 §7.1 HkdfLabel for "traffic upd"', () => {
  // HKDF-Expand, one block: T(1) = HMAC(secret, HkdfLabel || 0x01); HkdfLabel = 0020 || 11 "tls13 traffic upd" || 00.
  const label = new Uint8Array([
    0x00,
    0x20,
    17,
    ...new TextEncoder().encode("tls13 traffic upd"),
    0x00,
    0x01,
  ]);
  const want = createHmac("sha256", RFC8448.serverApSecret).update(label).digest();
  assertBytesEqual(nextTrafficSecret13("sha256", RFC8448.serverApSecret), new Uint8Array(want));
});

for (const name of ["tls12_v4", "tls13_v6", "concurrent_25", "retrans"]) {
  Deno.test(`${name}.pcap decrypts with its key log to the server's plaintext (nativeBackend)`, async () => {
    await assertFixtureDecrypts(name, native);
  });
}

Deno.test("key derivation on the native HMAC equals the @noble/hashes one", () => {
  const native = nativeBackend();
  const mac = (hash: "sha256" | "sha384", key: Uint8Array, parts: Uint8Array[]) =>
    native.hmac(hash, key, parts);
  const secret = Uint8Array.from({ length: 48 }, (_, i) => i * 7);
  const seed = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
  for (const hash of ["sha256", "sha384"] as const) {
    assertEquals(
      prf12(hash, secret, "key expansion", seed, 104, mac),
      prf12(hash, secret, "key expansion", seed, 104),
    );
    assertEquals(
      hkdfExpandLabel(hash, secret, "traffic upd", new Uint8Array(0), 48, mac),
      hkdfExpandLabel(hash, secret, "traffic upd", new Uint8Array(0), 48),
    );
  }
  for (const id of [0x1301, 0x1302, 0x1303]) {
    const suite = suiteById(id)!;
    const s = secret.subarray(0, suite.prfHash === "sha384" ? 48 : 32);
    assertEquals(trafficKeys13(suite, s, mac), trafficKeys13(suite, s));
  }
});

/**
 * Under Bun the HMAC is Bun's own keyed hasher, not `createHmac`: a Bun child
 * compares it with the @noble/hashes one on RFC 4231 test case 2 and on random
 * keys (shorter and longer than a block) and inputs in several parts.
 */
Deno.test("under Bun, nativeBackend's HMAC (Bun.CryptoHasher) equals @noble/hashes'", async () => {
  const child = `
import { nativeBackend } from "./plugins/crypto/native.ts";
import { nobleBackend } from "./core/tls/noble_backend.ts";
import { mulberry32 } from "./tests/lib/random.ts";
import { toHex as hex } from "./core/bytes/hex.ts";
const native = nativeBackend();
const enc = (s) => new TextEncoder().encode(s);
const rfc4231 = hex(native.hmac("sha256", enc("Jefe"), [enc("what do ya "), enc("want for nothing?")]));
const rnd = mulberry32(4231);
const bytes = (n) => Uint8Array.from({ length: n }, () => (rnd() * 256) | 0);
let checked = 0, mismatches = 0, lengths = new Set();
for (const hash of ["sha1", "sha256", "sha384"]) {
  for (let i = 0; i < 300; i++) {
    const key = bytes(i % 200), parts = [bytes(i % 7), bytes(i % 97), bytes(1)];
    const got = native.hmac(hash, key, parts);
    checked++;
    lengths.add(hash + ":" + got.length + ":" + (Object.getPrototypeOf(got) === Uint8Array.prototype));
    if (hex(got) !== hex(nobleBackend.hmac(hash, key, parts))) mismatches++;
  }
}
console.log(JSON.stringify({ bunHasher: typeof Bun.CryptoHasher, rfc4231, checked, mismatches, lengths: [...lengths] }));
`;
  const { result: r } = await runBunScript<{
    bunHasher: string;
    rfc4231: string;
    checked: number;
    mismatches: number;
    lengths: string[];
  }>(child);
  assertEquals(r.bunHasher, "function");
  // RFC 4231 §4.3, HMAC-SHA-256.
  assertEquals(r.rfc4231, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  assertEquals(r.checked, 900);
  assertEquals(r.mismatches, 0);
  // Plain Uint8Arrays of the digest's length (not views of a shared scratch buffer).
  assertEquals(r.lengths, ["sha1:20:true", "sha256:32:true", "sha384:48:true"]);
});
