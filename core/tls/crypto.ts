/**
 * The cipher backend contract. Two implementations pass the same vectors:
 * the portable reference on @noble/ciphers + @noble/hashes
 * (core/tls/noble_backend.ts) and the fast one on `node:crypto`
 * (plugins/crypto/native.ts, wired by main.ts; Bun's AES-GCM there runs at
 * ~5 GB/s), and for AEAD opens the system's libcrypto through FFI
 * (plugins/crypto/openssl.ts), which spares the per-record objects. A backend that lacks a cipher (Bun's node:crypto has no
 * ChaCha20-Poly1305) says so in `supports`, and the session falls back to the
 * reference for it.
 *
 * Calls are per TLS record (up to 16 KiB), never per packet.
 */

export type AeadAlg = "aes-128-gcm" | "aes-256-gcm" | "chacha20-poly1305";
export type CbcAlg = "aes-128-cbc" | "aes-256-cbc";
export type HashAlg = "sha1" | "sha256" | "sha384";

export interface CipherBackend {
  readonly name: string;
  supports(alg: AeadAlg | CbcAlg): boolean;
  /**
   * Opens `sealed` (ciphertext followed by the 16-byte tag). Returns the
   * plaintext, or null when the tag does not verify (or `sealed` is shorter
   * than a tag). The plaintext may lie in a buffer the backend reuses: it is
   * valid until the backend's next `aeadOpen` (copy it to keep it). A backend
   * may keep per-key state: keys are never changed in place.
   */
  aeadOpen(
    alg: AeadAlg,
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    sealed: Uint8Array,
  ): Uint8Array | null;
  /** Seals (for tests and `pack` fixtures): ciphertext || tag. */
  aeadSeal(
    alg: AeadAlg,
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    plain: Uint8Array,
  ): Uint8Array;
  /** Raw CBC decryption of whole blocks, no padding removed (TLS checks padding itself). */
  cbcDecrypt(alg: CbcAlg, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** HMAC over the concatenation of `parts`. */
  hmac(hash: HashAlg, key: Uint8Array, parts: Uint8Array[]): Uint8Array;
}
