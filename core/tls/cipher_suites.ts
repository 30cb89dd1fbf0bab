/**
 * The cipher suites the decryptor opens, by IANA id, with the sizes the key
 * schedule and the record layer need.
 *
 * Lengths, in bytes:
 * - `keyLen`: the bulk cipher key.
 * - `fixedIvLen`: the IV taken from the key schedule, per direction. TLS 1.2
 *   key block `client_write_IV`/`server_write_IV` (RFC 5246 §6.3): the 4-byte
 *   GCM salt (RFC 5288 §3), the 12-byte ChaCha20-Poly1305 IV (RFC 7905 §2),
 *   0 for CBC (the IV travels in each record, RFC 5246 §6.2.3.2). TLS 1.3:
 *   the 12-byte `iv` from the traffic secret (RFC 8446 §7.3).
 * - `recordIvLen`: bytes at the start of each record's fragment that are not
 *   ciphertext but IV: the 8-byte GCM explicit nonce (RFC 5288 §3), the 16-byte
 *   CBC IV (RFC 5246 §6.2.3.2), 0 for ChaCha20-Poly1305 and for TLS 1.3.
 * - `macLen`: the CBC record MAC (the HMAC output length); 0 for AEAD suites,
 *   whose tag is always 16 bytes (`AEAD_TAG_LEN`).
 */
import type { AeadAlg, CbcAlg, HashAlg } from "./crypto.ts";

export type TlsVersion = "1.2" | "1.3";
export type PrfHash = "sha256" | "sha384";

export interface CipherSuite {
  readonly id: number;
  /** The IANA name, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`. */
  readonly name: string;
  readonly version: TlsVersion;
  readonly kind: "aead" | "cbc";
  readonly aead?: AeadAlg;
  readonly cbc?: CbcAlg;
  readonly keyLen: number;
  readonly fixedIvLen: number;
  readonly recordIvLen: number;
  readonly macHash?: HashAlg;
  readonly macLen: number;
  /** TLS 1.2: the PRF hash (RFC 5246 §5). TLS 1.3: the HKDF hash (RFC 8446 §7.1). */
  readonly prfHash: PrfHash;
}

export const AEAD_TAG_LEN = 16;

function tls13(id: number, name: string, aead: AeadAlg, keyLen: number, prfHash: PrfHash) {
  return {
    id,
    name,
    version: "1.3",
    kind: "aead",
    aead,
    keyLen,
    fixedIvLen: 12,
    recordIvLen: 0,
    macLen: 0,
    prfHash,
  } as const;
}

function gcm12(id: number, name: string) {
  const is256 = name.includes("AES_256");
  return {
    id,
    name,
    version: "1.2",
    kind: "aead",
    aead: is256 ? "aes-256-gcm" : "aes-128-gcm",
    keyLen: is256 ? 32 : 16,
    fixedIvLen: 4,
    recordIvLen: 8,
    macLen: 0,
    prfHash: name.endsWith("SHA384") ? "sha384" : "sha256",
  } as const;
}

function chacha12(id: number, name: string) {
  return {
    id,
    name,
    version: "1.2",
    kind: "aead",
    aead: "chacha20-poly1305",
    keyLen: 32,
    fixedIvLen: 12,
    recordIvLen: 0,
    macLen: 0,
    prfHash: "sha256",
  } as const;
}

const MAC_LEN: Record<HashAlg, number> = { sha1: 20, sha256: 32, sha384: 48 };

function cbc12(id: number, name: string) {
  const is256 = name.includes("AES_256");
  const macHash: HashAlg = name.endsWith("SHA384")
    ? "sha384"
    : name.endsWith("SHA256")
    ? "sha256"
    : "sha1";
  return {
    id,
    name,
    version: "1.2",
    kind: "cbc",
    cbc: is256 ? "aes-256-cbc" : "aes-128-cbc",
    keyLen: is256 ? 32 : 16,
    fixedIvLen: 0,
    recordIvLen: 16,
    macHash,
    macLen: MAC_LEN[macHash],
    prfHash: macHash === "sha384" ? "sha384" : "sha256",
  } as const;
}

/** Every suite we decrypt, in no particular order. */
export const CIPHER_SUITES: readonly CipherSuite[] = [
  // RFC 8446 §B.4
  tls13(0x1301, "TLS_AES_128_GCM_SHA256", "aes-128-gcm", 16, "sha256"),
  tls13(0x1302, "TLS_AES_256_GCM_SHA384", "aes-256-gcm", 32, "sha384"),
  tls13(0x1303, "TLS_CHACHA20_POLY1305_SHA256", "chacha20-poly1305", 32, "sha256"),
  // RFC 5288, RFC 5289
  gcm12(0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
  gcm12(0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
  gcm12(0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
  gcm12(0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
  gcm12(0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
  gcm12(0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"),
  gcm12(0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
  gcm12(0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
  // RFC 7905
  chacha12(0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
  chacha12(0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
  chacha12(0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
  // RFC 5246 §A.5, RFC 4492, RFC 5289
  cbc12(0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
  cbc12(0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
  cbc12(0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
  cbc12(0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
  cbc12(0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"),
  cbc12(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
  cbc12(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
  cbc12(0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
  cbc12(0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
  cbc12(0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
  cbc12(0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
  cbc12(0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"),
  cbc12(0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"),
  cbc12(0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"),
  cbc12(0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
  cbc12(0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
];

const BY_ID = new Map<number, CipherSuite>(CIPHER_SUITES.map((s) => [s.id, s]));

/** The suite with IANA id `id`, or undefined when we do not decrypt it. */
export function suiteById(id: number): CipherSuite | undefined {
  return BY_ID.get(id);
}
