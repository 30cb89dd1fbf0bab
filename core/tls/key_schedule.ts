/**
 * Traffic keys from logged secrets, nonces and additional data per record,
 * and the TLS 1.2 CBC record check.
 *
 * TLS 1.2: master secret → key block with the PRF (RFC 5246 §5, §6.3).
 * TLS 1.3: traffic secret → key and iv with HKDF-Expand-Label (RFC 8446 §7.1,
 * §7.3), the next secret on KeyUpdate (§7.2).
 *
 * The nonce and AAD helpers write into `out` when given one (of the right
 * length), so a session can reuse one buffer per direction.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha384 } from "@noble/hashes/sha2.js";
import type { CipherSuite, PrfHash } from "./cipher_suites.ts";
import type { CipherBackend } from "./crypto.ts";

const HASH = { sha256, sha384 } as const;
const HASH_LEN: Record<PrfHash, number> = { sha256: 32, sha384: 48 };
const UTF8 = new TextEncoder();

function hashFn(hash: PrfHash) {
  const h = HASH[hash];
  if (h === undefined) throw new Error(`Unknown PRF hash ${JSON.stringify(hash)}`);
  return h;
}

/**
 * HMAC over the concatenation of `parts`: a backend's (`CipherBackend.hmac`,
 * native where it runs) or, by default, @noble/hashes'. Key derivation runs
 * per session, so on short sessions its speed shows.
 */
export type Mac = (hash: PrfHash, key: Uint8Array, parts: Uint8Array[]) => Uint8Array;

export const nobleMac: Mac = (hash, key, parts) => {
  const h = hmac.create(hashFn(hash), key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The TLS 1.2 PRF: P_hash(secret, label + seed), `length` bytes (RFC 5246 §5). */
export function prf12(
  hash: PrfHash,
  secret: Uint8Array,
  label: string,
  seed: Uint8Array,
  length: number,
  mac: Mac = nobleMac,
): Uint8Array {
  hashFn(hash);
  const labelBytes = UTF8.encode(label);
  const labelSeed = new Uint8Array(labelBytes.length + seed.length);
  labelSeed.set(labelBytes);
  labelSeed.set(seed, labelBytes.length);
  const out = new Uint8Array(length);
  let a: Uint8Array = labelSeed;
  for (let pos = 0; pos < length;) {
    a = mac(hash, secret, [a]);
    const block = mac(hash, secret, [a, labelSeed]);
    const n = Math.min(block.length, length - pos);
    out.set(n === block.length ? block : block.subarray(0, n), pos);
    pos += n;
  }
  return out;
}

export interface KeyBlock12 {
  clientWriteKey: Uint8Array;
  serverWriteKey: Uint8Array;
  clientWriteIv: Uint8Array;
  serverWriteIv: Uint8Array;
  clientMacKey: Uint8Array;
  serverMacKey: Uint8Array;
}

/**
 * Splits the TLS 1.2 key block (RFC 5246 §6.3): PRF(master_secret,
 * "key expansion", server_random + client_random), in the order MAC keys,
 * write keys, IVs. AEAD suites have empty MAC keys; CBC suites empty IVs.
 */
export function keyBlock12(
  suite: CipherSuite,
  masterSecret: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  mac: Mac = nobleMac,
): KeyBlock12 {
  if (suite.version !== "1.2") {
    throw new Error(
      `keyBlock12: suite ${suite.name} (0x${hex16(suite.id)}) is not a TLS 1.2 suite`,
    );
  }
  if (masterSecret.length !== 48) {
    throw new Error(`keyBlock12: master secret is ${masterSecret.length} bytes, not 48`);
  }
  if (clientRandom.length !== 32 || serverRandom.length !== 32) {
    throw new Error(
      `keyBlock12: randoms are ${clientRandom.length} and ${serverRandom.length} bytes, not 32`,
    );
  }
  const seed = new Uint8Array(64);
  seed.set(serverRandom);
  seed.set(clientRandom, 32);
  const macLen = suite.macLen, key = suite.keyLen, iv = suite.fixedIvLen;
  const block = prf12(
    suite.prfHash,
    masterSecret,
    "key expansion",
    seed,
    2 * (macLen + key + iv),
    mac,
  );
  let pos = 0;
  const take = (n: number) => block.subarray(pos, pos += n);
  const clientMacKey = take(macLen);
  const serverMacKey = take(macLen);
  const clientWriteKey = take(key);
  const serverWriteKey = take(key);
  const clientWriteIv = take(iv);
  const serverWriteIv = take(iv);
  return {
    clientWriteKey,
    serverWriteKey,
    clientWriteIv,
    serverWriteIv,
    clientMacKey,
    serverMacKey,
  };
}

/** HKDF-Expand-Label(secret, label, context, length) with the "tls13 " prefix (RFC 8446 §7.1). */
export function hkdfExpandLabel(
  hash: PrfHash,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
  mac: Mac = nobleMac,
): Uint8Array {
  const full = UTF8.encode("tls13 " + label);
  if (full.length > 255 || context.length > 255 || length > 0xffff) {
    throw new Error(
      `hkdfExpandLabel: label ${
        JSON.stringify(label)
      } (${full.length} bytes), context ${context.length} bytes or length ${length} out of range`,
    );
  }
  const info = new Uint8Array(2 + 1 + full.length + 1 + context.length);
  info[0] = length >>> 8;
  info[1] = length & 0xff;
  info[2] = full.length;
  info.set(full, 3);
  info[3 + full.length] = context.length;
  info.set(context, 4 + full.length);
  return hkdfExpand(hash, secret, info, length, mac);
}

/** HKDF-Expand (RFC 5869 §2.3): T(i) = HMAC(PRK, T(i-1) | info | i). */
function hkdfExpand(
  hash: PrfHash,
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
  mac: Mac,
): Uint8Array {
  const hashLen = HASH_LEN[hash];
  if (hashLen === undefined) hashFn(hash);
  if (length > 255 * hashLen) throw new Error(`hkdfExpand: length ${length} > 255 * ${hashLen}`);
  const out = new Uint8Array(length);
  let t: Uint8Array = new Uint8Array(0);
  const counter = new Uint8Array(1);
  for (let pos = 0, i = 1; pos < length; i++) {
    counter[0] = i;
    t = mac(hash, prk, [t, info, counter]);
    const n = Math.min(t.length, length - pos);
    out.set(n === t.length ? t : t.subarray(0, n), pos);
    pos += n;
  }
  return out;
}

const EMPTY = new Uint8Array(0);

/** The record key and iv of a TLS 1.3 traffic secret (RFC 8446 §7.3). */
export function trafficKeys13(
  suite: CipherSuite,
  secret: Uint8Array,
  mac: Mac = nobleMac,
): { key: Uint8Array; iv: Uint8Array } {
  if (suite.version !== "1.3") {
    throw new Error(
      `trafficKeys13: suite ${suite.name} (0x${hex16(suite.id)}) is not a TLS 1.3 suite`,
    );
  }
  return {
    key: hkdfExpandLabel(suite.prfHash, secret, "key", EMPTY, suite.keyLen, mac),
    iv: hkdfExpandLabel(suite.prfHash, secret, "iv", EMPTY, suite.fixedIvLen, mac),
  };
}

/** application_traffic_secret_N+1 after a KeyUpdate (RFC 8446 §7.2). */
export function nextTrafficSecret13(
  hash: PrfHash,
  secret: Uint8Array,
  mac: Mac = nobleMac,
): Uint8Array {
  return hkdfExpandLabel(hash, secret, "traffic upd", EMPTY, HASH_LEN[hash], mac);
}

function outBuf(out: Uint8Array | undefined, n: number, what: string): Uint8Array {
  if (out === undefined) return new Uint8Array(n);
  if (out.length !== n) throw new Error(`${what}: out buffer is ${out.length} bytes, not ${n}`);
  return out;
}

function checkSeq(seq: number): void {
  if (!(seq >= 0 && seq <= Number.MAX_SAFE_INTEGER && Number.isInteger(seq))) {
    throw new Error(`TLS sequence number ${seq} is not an integer in [0, 2^53)`);
  }
}

function writeSeq(out: Uint8Array, at: number, seq: number): void {
  const hi = Math.floor(seq / 0x100000000);
  const lo = seq >>> 0;
  out[at] = hi >>> 24;
  out[at + 1] = (hi >>> 16) & 0xff;
  out[at + 2] = (hi >>> 8) & 0xff;
  out[at + 3] = hi & 0xff;
  out[at + 4] = lo >>> 24;
  out[at + 5] = (lo >>> 16) & 0xff;
  out[at + 6] = (lo >>> 8) & 0xff;
  out[at + 7] = lo & 0xff;
}

/**
 * The per-record nonce: `iv` XOR the 64-bit big-endian `seq`, left-padded to
 * the iv's 12 bytes (RFC 8446 §5.3).
 */
export function nonce13(iv: Uint8Array, seq: number, out?: Uint8Array): Uint8Array {
  checkSeq(seq);
  if (iv.length !== 12) throw new Error(`nonce13: iv is ${iv.length} bytes, not 12`);
  const n = outBuf(out, 12, "nonce13");
  n.set(iv);
  const hi = Math.floor(seq / 0x100000000);
  const lo = seq >>> 0;
  n[4] ^= hi >>> 24;
  n[5] ^= (hi >>> 16) & 0xff;
  n[6] ^= (hi >>> 8) & 0xff;
  n[7] ^= hi & 0xff;
  n[8] ^= lo >>> 24;
  n[9] ^= (lo >>> 16) & 0xff;
  n[10] ^= (lo >>> 8) & 0xff;
  n[11] ^= lo & 0xff;
  return n;
}

/** TLS 1.2 ChaCha20-Poly1305 builds its nonce as TLS 1.3 does (RFC 7905 §2). */
export function nonceChacha12(iv: Uint8Array, seq: number, out?: Uint8Array): Uint8Array {
  return nonce13(iv, seq, out);
}

/**
 * TLS 1.2 AES-GCM nonce: the 4-byte salt, then the record's 8-byte explicit
 * nonce (RFC 5288 §3), the first 8 bytes of `record` (the whole record
 * fragment may be passed: no view per record).
 */
export function nonceGcm12(
  fixedIv: Uint8Array,
  record: Uint8Array,
  out?: Uint8Array,
): Uint8Array {
  if (fixedIv.length !== 4 || record.length < 8) {
    throw new Error(
      `nonceGcm12: salt is ${fixedIv.length} bytes and explicit nonce ${record.length}, not 4 and 8`,
    );
  }
  const n = outBuf(out, 12, "nonceGcm12");
  n.set(fixedIv);
  for (let i = 0; i < 8; i++) n[4 + i] = record[i];
  return n;
}

/**
 * TLS 1.2 AEAD additional data, also the CBC MAC header: seq_num(8) || type ||
 * version(2) || length(2) (RFC 5246 §6.2.3.2, §6.2.3.3).
 */
export function aad12(
  seq: number,
  type: number,
  version: number,
  length: number,
  out?: Uint8Array,
): Uint8Array {
  checkSeq(seq);
  const a = outBuf(out, 13, "aad12");
  writeSeq(a, 0, seq);
  a[8] = type;
  a[9] = version >>> 8;
  a[10] = version & 0xff;
  a[11] = length >>> 8;
  a[12] = length & 0xff;
  return a;
}

/**
 * TLS 1.3 additional data: the record header opaque_type(23) ||
 * legacy_record_version(0x0303) || length of the sealed fragment (RFC 8446 §5.2).
 */
export function aad13(type: number, version: number, length: number, out?: Uint8Array): Uint8Array {
  const a = outBuf(out, 5, "aad13");
  a[0] = type;
  a[1] = version >>> 8;
  a[2] = version & 0xff;
  a[3] = length >>> 8;
  a[4] = length & 0xff;
  return a;
}

/** One direction's CBC keys (from `keyBlock12`). */
export interface CbcKeys12 {
  key: Uint8Array;
  macKey: Uint8Array;
}

const BLOCK = 16;

/**
 * Opens a TLS 1.2 AES-CBC record's fragment (IV || ciphertext [|| MAC]).
 * MAC-then-encrypt (RFC 5246 §6.2.3.2): decrypt, check the padding, check the
 * HMAC over seq || type || version || length || plaintext. Encrypt-then-MAC
 * (RFC 7366 §3): check the HMAC over seq || type || version || length ||
 * IV+ciphertext first, then decrypt and check the padding. The plaintext, or
 * null on a bad length, padding or MAC. The result is a view into a fresh
 * buffer.
 */
export function openCbc12(
  backend: CipherBackend,
  suite: CipherSuite,
  keys: CbcKeys12,
  seq: number,
  type: number,
  version: number,
  fragment: Uint8Array,
  encryptThenMac: boolean,
): Uint8Array | null {
  const alg = suite.cbc;
  const macHash = suite.macHash;
  if (suite.kind !== "cbc" || alg === undefined || macHash === undefined) {
    throw new Error(`openCbc12: suite ${suite.name} (0x${hex16(suite.id)}) is not a CBC suite`);
  }
  const macLen = suite.macLen;
  const header = new Uint8Array(13);
  if (encryptThenMac) {
    const ctEnd = fragment.length - macLen;
    if (ctEnd < 2 * BLOCK || (ctEnd % BLOCK) !== 0) return null;
    const sealed = fragment.subarray(0, ctEnd);
    aad12(seq, type, version, ctEnd, header);
    const mac = backend.hmac(macHash, keys.macKey, [header, sealed]);
    if (!equal(mac, fragment.subarray(ctEnd))) return null;
    const plain = backend.cbcDecrypt(
      alg,
      keys.key,
      sealed.subarray(0, BLOCK),
      sealed.subarray(BLOCK),
    );
    const padEnd = unpad(plain);
    return padEnd < 0 ? null : plain.subarray(0, padEnd);
  }
  const ctLen = fragment.length - BLOCK;
  if (ctLen < BLOCK || (ctLen % BLOCK) !== 0 || ctLen < macLen + 1) return null;
  const plain = backend.cbcDecrypt(
    alg,
    keys.key,
    fragment.subarray(0, BLOCK),
    fragment.subarray(BLOCK),
  );
  const padEnd = unpad(plain);
  if (padEnd < macLen) return null;
  const dataEnd = padEnd - macLen;
  aad12(seq, type, version, dataEnd, header);
  const data = plain.subarray(0, dataEnd);
  const mac = backend.hmac(macHash, keys.macKey, [header, data]);
  return equal(mac, plain.subarray(dataEnd, padEnd)) ? data : null;
}

/** Where the padding starts (RFC 5246 §6.2.3.2: padding_length + 1 bytes, each padding_length), or -1. */
function unpad(plain: Uint8Array): number {
  if (plain.length === 0) return -1;
  const padLen = plain[plain.length - 1];
  const start = plain.length - 1 - padLen;
  if (start < 0) return -1;
  for (let i = start; i < plain.length - 1; i++) if (plain[i] !== padLen) return -1;
  return start;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

function hex16(n: number): string {
  return n.toString(16).padStart(4, "0");
}
