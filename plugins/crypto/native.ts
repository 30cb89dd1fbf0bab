/**
 * A `CipherBackend` on `node:crypto` (OpenSSL in Deno and Node, BoringSSL in
 * Bun): one decipher object per record, no copies beyond the output.
 *
 * At construction each cipher is tried on a known answer (SP 800-38A F.2,
 * the GCM spec's test case 2 and 14, RFC 8439 §2.8.2's key and nonce); one that
 * throws or answers wrongly is reported unsupported, and the session uses the
 * reference backend for it. Bun's `node:crypto` has no ChaCha20-Poly1305.
 */
import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import type { AeadAlg, CbcAlg, CipherBackend, HashAlg } from "../../core/tls/crypto.ts";

const TAG_LEN = 16;
const EMPTY = new Uint8Array(0);
const GCM_OPTIONS = { authTagLength: TAG_LEN } as const;

export const AEAD_KEY_LEN: Record<AeadAlg, number> = {
  "aes-128-gcm": 16,
  "aes-256-gcm": 32,
  "chacha20-poly1305": 32,
};
const CBC_KEY_LEN: Record<CbcAlg, number> = { "aes-128-cbc": 16, "aes-256-cbc": 32 };

/**
 * A node Buffer as a plain Uint8Array (whose `slice` copies). Switching the
 * prototype, rather than making a view of `b.buffer`, spares Bun from
 * materialising the ArrayBuffer of every output.
 */
function plain(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype
    ? b
    : Object.setPrototypeOf(b, Uint8Array.prototype);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return plain(a);
  if (a.length === 0) return plain(b);
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Throws, naming both lengths, unless `key` is `want` bytes (undefined: unknown cipher). */
export function checkKey(alg: string, key: Uint8Array, want: number | undefined): void {
  if (want === undefined) throw new Error(`Unknown cipher ${JSON.stringify(alg)}`);
  if (key.length !== want) {
    throw new Error(`${alg} needs a ${want}-byte key, got ${key.length} bytes`);
  }
}

function open(
  alg: AeadAlg,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array | null {
  checkKey(alg, key, AEAD_KEY_LEN[alg]);
  if (sealed.length < TAG_LEN) return null;
  const end = sealed.length - TAG_LEN;
  // The GCM overload's types: ChaCha20-Poly1305 deciphers have the same setAAD/setAuthTag.
  const d = createDecipheriv(alg as "aes-128-gcm", key, nonce, GCM_OPTIONS);
  d.setAuthTag(sealed.subarray(end));
  if (aad.length > 0) d.setAAD(aad);
  try {
    const head: Uint8Array = d.update(sealed.subarray(0, end));
    const tail: Uint8Array = d.final();
    return concat(head, tail);
  } catch {
    return null;
  }
}

function seal(
  alg: AeadAlg,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plain: Uint8Array,
): Uint8Array {
  checkKey(alg, key, AEAD_KEY_LEN[alg]);
  const c = createCipheriv(alg as "aes-128-gcm", key, nonce, { authTagLength: TAG_LEN });
  if (aad.length > 0) c.setAAD(aad);
  const head: Uint8Array = c.update(plain);
  const tail: Uint8Array = c.final();
  const tag: Uint8Array = c.getAuthTag();
  const out = new Uint8Array(head.length + tail.length + TAG_LEN);
  out.set(head);
  out.set(tail, head.length);
  out.set(tag, head.length + tail.length);
  return out;
}

function cbcDecrypt(alg: CbcAlg, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(alg, key, CBC_KEY_LEN[alg]);
  if (data.length % 16 !== 0) {
    throw new Error(`${alg} decryption needs whole 16-byte blocks, got ${data.length} bytes`);
  }
  if (data.length === 0) return EMPTY;
  const d = createDecipheriv(alg, key, iv);
  d.setAutoPadding(false);
  return concat(d.update(data), d.final());
}

/**
 * Bun's own keyed hasher (`Bun.CryptoHasher(alg, key)`): the same BoringSSL
 * HMAC as `createHmac` without the stream object around it, and its digest
 * written into a plain `Uint8Array` (reading `.buffer` of a fresh Buffer, or
 * changing its prototype, costs more than the HMAC). In `bun --cpu-prof`
 * of the bench's decryption, the key schedule (samples under hkdfExpand,
 * prf12, keyBlock12, trafficKeys13) went from 455 to 327 ms with this.
 */
type KeyedHasher = new (alg: HashAlg, key: Uint8Array) => {
  update(data: Uint8Array): unknown;
  digest(into: Uint8Array): unknown;
};
const BunHasher = (globalThis as { Bun?: { CryptoHasher?: KeyedHasher } }).Bun?.CryptoHasher;
const DIGEST_LEN: Record<HashAlg, number> = { sha1: 20, sha256: 32, sha384: 48 };
/** `digest(into)` wants room for any digest (64 bytes); the result is copied out. */
const digestScratch = new Uint8Array(64);

function hmac(hash: HashAlg, key: Uint8Array, parts: Uint8Array[]): Uint8Array {
  if (BunHasher !== undefined) {
    const h = new BunHasher(hash, key);
    for (let i = 0; i < parts.length; i++) h.update(parts[i]);
    h.digest(digestScratch);
    return digestScratch.slice(0, DIGEST_LEN[hash]);
  }
  const h = createHmac(hash, key);
  for (let i = 0; i < parts.length; i++) h.update(parts[i]);
  return plain(h.digest());
}

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function same(a: Uint8Array | null, b: Uint8Array): boolean {
  if (a === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

type AeadOpen = (
  alg: AeadAlg,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
) => Uint8Array | null;

/** A known answer an AEAD implementation must open, and refuse with one bit of the tag flipped. */
export interface AeadProbe {
  alg: AeadAlg;
  key: string;
  nonce: string;
  /** Ciphertext and tag, of `plain` with no AAD. */
  sealed: string;
  plain: string;
}

/** True when `open` opens the probe's answer and refuses it with the tag's last bit flipped. */
export function opensProbe(p: AeadProbe, open: AeadOpen): boolean {
  const k = hex(p.key), n = hex(p.nonce), sealed = hex(p.sealed), plainText = hex(p.plain);
  if (!same(open(p.alg, k, n, EMPTY, sealed), plainText)) return false;
  sealed[sealed.length - 1] ^= 1;
  return open(p.alg, k, n, EMPTY, sealed) === null;
}

const ZERO16 = "00".repeat(16);

/**
 * GCM spec (McGrew, Viega 2005) test cases 2 and 14; RFC 8439 §2.8.2's key
 * and nonce over 16 zero bytes, no AAD.
 */
export const AEAD_PROBES: readonly AeadProbe[] = [
  {
    alg: "aes-128-gcm",
    key: ZERO16,
    nonce: "00".repeat(12),
    sealed: "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf",
    plain: ZERO16,
  },
  {
    alg: "aes-256-gcm",
    key: "00".repeat(32),
    nonce: "00".repeat(12),
    sealed: "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919",
    plain: ZERO16,
  },
  {
    alg: "chacha20-poly1305",
    key: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
    nonce: "070000004041424344454647",
    sealed: "9f7be95d01fd40ba15e28ffb36810aae60319b38bba29e1deaf365caada6182e",
    plain: ZERO16,
  },
];

/** Our open and seal agree with a known answer (a runtime may lack the cipher, or get it wrong). */
function aeadWorks(p: AeadProbe): boolean {
  try {
    return opensProbe(p, open) &&
      same(seal(p.alg, hex(p.key), hex(p.nonce), EMPTY, hex(p.plain)), hex(p.sealed));
  } catch {
    return false;
  }
}

function cbcWorks(alg: CbcAlg, key: string, ct: string, plain: string): boolean {
  try {
    return same(
      cbcDecrypt(alg, hex(key), hex("000102030405060708090a0b0c0d0e0f"), hex(ct)),
      hex(plain),
    );
  } catch {
    return false;
  }
}

function probe(): Set<AeadAlg | CbcAlg> {
  const ok = new Set<AeadAlg | CbcAlg>();
  for (const p of AEAD_PROBES) if (aeadWorks(p)) ok.add(p.alg);
  // SP 800-38A F.2.2 and F.2.6, first block.
  if (
    cbcWorks(
      "aes-128-cbc",
      "2b7e151628aed2a6abf7158809cf4f3c",
      "7649abac8119b246cee98e9b12e9197d",
      "6bc1bee22e409f96e93d7e117393172a",
    )
  ) {
    ok.add("aes-128-cbc");
  }
  if (
    cbcWorks(
      "aes-256-cbc",
      "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
      "f58c4c04d6e5f1ba779eabfb5f7bfbd6",
      "6bc1bee22e409f96e93d7e117393172a",
    )
  ) ok.add("aes-256-cbc");
  return ok;
}

/**
 * The `node:crypto` backend. `supports` answers from the probe run here, so
 * call this once and keep the result.
 */
export function nativeBackend(): CipherBackend {
  const ok = probe();
  return {
    name: "node:crypto",
    supports: (alg) => ok.has(alg),
    aeadOpen: open,
    aeadSeal: seal,
    cbcDecrypt,
    hmac,
  };
}
