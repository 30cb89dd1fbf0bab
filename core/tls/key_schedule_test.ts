import { sha256 } from "@noble/hashes/sha2.js";
import { assertBytesEqual, assertEquals, assertThrows } from "../../tests/assert.ts";
import { fromHex, toHex } from "../bytes/hex.ts";
import { suiteById } from "./cipher_suites.ts";
import {
  aad12,
  aad13,
  hkdfExpandLabel,
  keyBlock12,
  nextTrafficSecret13,
  nonce13,
  nonceChacha12,
  nonceGcm12,
  prf12,
  trafficKeys13,
} from "./key_schedule.ts";
import { nobleBackend } from "./noble_backend.ts";
import { PRF_VECTORS, RFC8448 } from "./test_vectors.ts";
import { assertFixtureDecrypts } from "../../tests/lib/transcript.ts";

for (const v of PRF_VECTORS) {
  Deno.test(`prf12() matches the ${v.name} vector`, () => {
    assertBytesEqual(prf12(v.hash, v.secret, v.label, v.seed, v.out.length), v.out);
    assertBytesEqual(prf12(v.hash, v.secret, v.label, v.seed, 7), v.out.subarray(0, 7));
  });
}

Deno.test("keyBlock12() splits the key block in RFC 5246 §6.3 order", () => {
  const ms = new Uint8Array(48).fill(0x2a),
    cr = new Uint8Array(32).fill(1),
    sr = new Uint8Array(32).fill(2);
  const seed = new Uint8Array([...sr, ...cr]);
  const gcm = suiteById(0xc02f)!;
  const kb = keyBlock12(gcm, ms, cr, sr);
  const block = prf12("sha256", ms, "key expansion", seed, 40);
  assertBytesEqual(kb.clientMacKey, new Uint8Array(0));
  assertBytesEqual(kb.clientWriteKey, block.subarray(0, 16));
  assertBytesEqual(kb.serverWriteKey, block.subarray(16, 32));
  assertBytesEqual(kb.clientWriteIv, block.subarray(32, 36));
  assertBytesEqual(kb.serverWriteIv, block.subarray(36, 40));
  const cbc = suiteById(0xc028)!;
  const kc = keyBlock12(cbc, ms, cr, sr);
  const b2 = prf12("sha384", ms, "key expansion", seed, 2 * (48 + 32));
  assertBytesEqual(kc.clientMacKey, b2.subarray(0, 48));
  assertBytesEqual(kc.serverMacKey, b2.subarray(48, 96));
  assertBytesEqual(kc.clientWriteKey, b2.subarray(96, 128));
  assertBytesEqual(kc.serverWriteKey, b2.subarray(128, 160));
  assertEquals(kc.clientWriteIv.length + kc.serverWriteIv.length, 0);
});

Deno.test("keyBlock12() rejects a TLS 1.3 suite and a short master secret", () => {
  const r = new Uint8Array(32);
  assertThrows(
    () => keyBlock12(suiteById(0x1301)!, new Uint8Array(48), r, r),
    Error,
    "TLS_AES_128_GCM_SHA256 (0x1301) is not a TLS 1.2 suite",
  );
  assertThrows(
    () => keyBlock12(suiteById(0xc02f)!, new Uint8Array(47), r, r),
    Error,
    "master secret is 47 bytes, not 48",
  );
});

Deno.test("hkdfExpandLabel() derives RFC 8448 §3 secrets with a hash context", () => {
  const r = RFC8448;
  assertBytesEqual(
    hkdfExpandLabel("sha256", r.earlySecret, "derived", sha256(new Uint8Array(0)), 32),
    r.derivedFromEarly,
  );
  assertBytesEqual(
    hkdfExpandLabel("sha256", r.handshakeSecret, "c hs traffic", r.helloHash, 32),
    r.clientHsSecret,
  );
  assertBytesEqual(
    hkdfExpandLabel("sha256", r.handshakeSecret, "s hs traffic", r.helloHash, 32),
    r.serverHsSecret,
  );
});

Deno.test("trafficKeys13() derives every RFC 8448 §3 key and iv", () => {
  const r = RFC8448;
  const suite = suiteById(0x1301)!;
  for (
    const [secret, key, iv] of [
      [r.clientHsSecret, r.clientHsKey, r.clientHsIv],
      [r.serverHsSecret, r.serverHsKey, r.serverHsIv],
      [r.clientApSecret, r.clientApKey, r.clientApIv],
      [r.serverApSecret, r.serverApKey, r.serverApIv],
    ]
  ) {
    const k = trafficKeys13(suite, secret);
    assertBytesEqual(k.key, key);
    assertBytesEqual(k.iv, iv);
  }
  assertThrows(
    () => trafficKeys13(suiteById(0xc02f)!, r.clientHsSecret),
    Error,
    "is not a TLS 1.3 suite",
  );
});

Deno.test('nextTrafficSecret13() is HKDF-Expand-Label(secret, "traffic upd", "", Hash.length)', () => {
  const s = RFC8448.serverApSecret;
  assertBytesEqual(
    nextTrafficSecret13("sha256", s),
    hkdfExpandLabel("sha256", s, "traffic upd", new Uint8Array(0), 32),
  );
  assertEquals(nextTrafficSecret13("sha384", new Uint8Array(48)).length, 48);
});

Deno.test("nonce13() XORs the 64-bit sequence number into the iv's last 8 bytes", () => {
  const iv = fromHex("5b78923dee08579033e523d9");
  assertEquals(toHex(nonce13(iv, 0)), "5b78923dee08579033e523d9");
  assertEquals(toHex(nonce13(iv, 1)), "5b78923dee08579033e523d8");
  assertEquals(toHex(nonce13(iv, 0x1_0203_0405)), "5b78923dee08579131e627dc");
  assertEquals(
    toHex(nonce13(new Uint8Array(12), Number.MAX_SAFE_INTEGER)),
    "00000000001fffffffffffff",
  );
  const out = new Uint8Array(12);
  assertEquals(nonceChacha12(iv, 2, out), out);
  assertEquals(toHex(out), "5b78923dee08579033e523db");
  assertThrows(() => nonce13(iv, -1), Error, "TLS sequence number -1 is not an integer");
  assertThrows(() => nonce13(iv, 2 ** 53), Error, "is not an integer in [0, 2^53)");
  assertThrows(
    () => nonce13(iv, 1, new Uint8Array(8)),
    Error,
    "nonce13: out buffer is 8 bytes, not 12",
  );
});

Deno.test("nonceGcm12(), aad12() and aad13() lay out their bytes per RFC 5288 and RFC 8446 §5.2", () => {
  assertEquals(
    toHex(nonceGcm12(fromHex("01020304"), fromHex("0000000000000007"))),
    "010203040000000000000007",
  );
  assertEquals(toHex(aad12(0x1_0000_0002, 23, 0x0303, 0x4000)), "00000001000000021703034000");
  assertEquals(toHex(aad13(23, 0x0303, 0x4011)), "1703034011");
  const out = new Uint8Array(13);
  assertEquals(aad12(5, 22, 0x0303, 16, out), out);
  assertThrows(() => nonceGcm12(new Uint8Array(12), new Uint8Array(8)), Error, "salt is 12 bytes");
  // A whole record: the explicit nonce is its first 8 bytes.
  assertEquals(
    toHex(nonceGcm12(fromHex("01020304"), fromHex("a1a2a3a4a5a6a7a8ffeeddcc"))),
    "01020304a1a2a3a4a5a6a7a8",
  );
  assertThrows(() => nonceGcm12(new Uint8Array(4), new Uint8Array(7)), Error, "explicit nonce 7");
});

// Real traffic: curl 7.88 / OpenSSL 3.0 against python ssl (tests/fixtures/captures/README.md).
for (
  const [name, suiteName] of [["tls12_v4", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"], [
    "tls13_v6",
    "TLS_AES_256_GCM_SHA384",
  ]]
) {
  Deno.test(`${name}.pcap decrypts with its key log to the server's plaintext (${suiteName}, noble)`, async () => {
    const conns = await assertFixtureDecrypts(name, nobleBackend);
    assertEquals(conns.length, 3);
    for (const d of conns) {
      assertEquals(d.suite.name, suiteName);
      assertEquals(d.toServer.handshakeTypes.includes(20), true);
      assertEquals(d.toClient.handshakeTypes.includes(20), true);
    }
  });
}
