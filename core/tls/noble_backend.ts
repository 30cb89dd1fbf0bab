/**
 * The portable reference `CipherBackend` on @noble/ciphers and @noble/hashes:
 * pure TypeScript, the same on every runtime, and the fallback for whatever
 * a faster backend lacks.
 */
import { cbc, gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256, sha384 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";
import type { AeadAlg, CbcAlg, CipherBackend, HashAlg } from "./crypto.ts";

const TAG_LEN = 16;
const HASHES = { sha1, sha256, sha384 } as const;

function aead(alg: AeadAlg, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) {
  switch (alg) {
    case "aes-128-gcm":
    case "aes-256-gcm":
      checkKey(alg, key, alg === "aes-128-gcm" ? 16 : 32);
      return gcm(key, nonce, aad);
    case "chacha20-poly1305":
      checkKey(alg, key, 32);
      return chacha20poly1305(key, nonce, aad);
    default:
      throw new Error(`Unknown AEAD algorithm ${JSON.stringify(alg)}`);
  }
}

function checkKey(alg: string, key: Uint8Array, want: number): void {
  if (key.length !== want) {
    throw new Error(`${alg} needs a ${want}-byte key, got ${key.length} bytes`);
  }
}

export const nobleBackend: CipherBackend = {
  name: "noble",

  supports(alg: AeadAlg | CbcAlg): boolean {
    return alg === "aes-128-gcm" || alg === "aes-256-gcm" || alg === "chacha20-poly1305" ||
      alg === "aes-128-cbc" || alg === "aes-256-cbc";
  },

  aeadOpen(alg, key, nonce, aad, sealed) {
    const cipher = aead(alg, key, nonce, aad);
    if (sealed.length < TAG_LEN) return null;
    try {
      return cipher.decrypt(sealed);
    } catch {
      return null;
    }
  },

  aeadSeal(alg, key, nonce, aad, plain) {
    return aead(alg, key, nonce, aad).encrypt(plain);
  },

  cbcDecrypt(alg, key, iv, data) {
    checkKey(alg, key, alg === "aes-128-cbc" ? 16 : alg === "aes-256-cbc" ? 32 : -1);
    if (data.length % 16 !== 0) {
      throw new Error(`${alg} decryption needs whole 16-byte blocks, got ${data.length} bytes`);
    }
    if (data.length === 0) return new Uint8Array(0);
    return cbc(key, iv, { disablePadding: true }).decrypt(data);
  },

  hmac(hash: HashAlg, key: Uint8Array, parts: Uint8Array[]): Uint8Array {
    const h = HASHES[hash];
    if (h === undefined) throw new Error(`Unknown HMAC hash ${JSON.stringify(hash)}`);
    const mac = hmac.create(h, key);
    for (let i = 0; i < parts.length; i++) mac.update(parts[i]);
    return mac.digest();
  },
};
