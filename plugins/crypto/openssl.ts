/**
 * A `CipherBackend` whose AEAD opens run in the system's OpenSSL libcrypto
 * (libcrypto.so.3, or .so.1.1), called through the runtime's FFI (bun:ffi in
 * the compiled binary, Deno.dlopen under Deno): the fast path for TLS
 * application data.
 *
 * Why not only `node:crypto`: it builds a Decipher object (and its key
 * schedule) and a fresh output Buffer for every record. At the bench's ~3 KB
 * records that is ~9 µs a record in a long run, most of it object churn and
 * the garbage collection it causes, against ~1 µs of AES-GCM. Here each key
 * gets one EVP_CIPHER_CTX, set up once (one per direction and key
 * generation) and freed when the key is collected; a record costs setting
 * the nonce, two updates, the tag and the final check (under Bun, all five
 * behind one native call: `ONE_CALL_SOURCE`), and its plaintext lands in one
 * buffer reused by every call (valid until the next call, as the
 * `CipherBackend` contract allows).
 *
 * Only AEAD opens go through libcrypto, each algorithm only after it opened a
 * known answer and refused it with a flipped tag; sealing (tests, fixtures),
 * CBC and HMAC are the given backend's (libcrypto's one-shot HMAC() measured
 * 3.6 µs against node:crypto's 0.9 µs in Bun: OpenSSL 3 fetches its provider
 * on every call). `opensslBackend` returns null, and
 * main.ts keeps `node:crypto`, when the runtime has no FFI, FFI is not
 * permitted, or no libcrypto loads: the static binary never depends on it.
 */
import type { AeadAlg, CbcAlg, CipherBackend } from "../../core/tls/crypto.ts";
import { compileC } from "../hw/cc.ts";
import { AEAD_KEY_LEN, AEAD_PROBES, checkKey, opensProbe } from "./native.ts";

const TAG_LEN = 16;
/** EVP_CTRL_AEAD_SET_TAG (= EVP_CTRL_GCM_SET_TAG), OpenSSL's evp.h. */
const EVP_CTRL_AEAD_SET_TAG = 0x11;
const LIBRARIES = ["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"];
const CIPHER_SYMBOLS: Record<AeadAlg, string> = {
  "aes-128-gcm": "EVP_aes_128_gcm",
  "aes-256-gcm": "EVP_aes_256_gcm",
  "chacha20-poly1305": "EVP_chacha20_poly1305",
};

/** An opaque native pointer (a number in Bun, a pointer object in Deno). */
type Handle = unknown;

/** The few libcrypto calls used, the same on both runtimes. */
interface LibCrypto {
  readonly path: string;
  ctxNew(): Handle;
  ctxFree(ctx: Handle): void;
  cipher(alg: AeadAlg): Handle;
  /** EVP_DecryptInit_ex(ctx, cipher, NULL, key, iv): 1 on success. */
  init(ctx: Handle, cipher: Handle, key: Uint8Array | null, iv: Uint8Array | null): number;
  /** EVP_DecryptUpdate(ctx, out, outl, in, length): the first `length` bytes of `input`; 1 on success. */
  update(
    ctx: Handle,
    out: Uint8Array | null,
    outl: Int32Array,
    input: Uint8Array,
    length: number,
  ): number;
  setTag(ctx: Handle, tag: Uint8Array): number;
  /** EVP_DecryptFinal_ex: 1 when the tag verifies. */
  final(ctx: Handle, out: Uint8Array, outl: Int32Array): number;
  /**
   * The five calls of one open in a single native call (see `ONE_CALL_SOURCE`):
   * the plaintext length, or -1 when a call fails or the tag does not verify.
   * Null where it could not be compiled (Deno, not x86-64, no TinyCC).
   */
  openOnce:
    | ((
      ctx: Handle,
      nonce: Uint8Array,
      aad: Uint8Array,
      aadLength: number,
      sealed: Uint8Array,
      sealedLength: number,
      out: Uint8Array,
    ) => number)
    | null;
}

interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
}

const SIGNATURES = {
  EVP_CIPHER_CTX_new: { args: [], returns: "ptr" },
  EVP_CIPHER_CTX_free: { args: ["ptr"], returns: "void" },
  EVP_aes_128_gcm: { args: [], returns: "ptr" },
  EVP_aes_256_gcm: { args: [], returns: "ptr" },
  EVP_chacha20_poly1305: { args: [], returns: "ptr" },
  EVP_DecryptInit_ex: { args: ["ptr", "ptr", "ptr", "ptr", "ptr"], returns: "i32" },
  EVP_DecryptUpdate: { args: ["ptr", "ptr", "ptr", "ptr", "i32"], returns: "i32" },
  EVP_DecryptFinal_ex: { args: ["ptr", "ptr", "ptr"], returns: "i32" },
  EVP_CIPHER_CTX_ctrl: { args: ["ptr", "i32", "i32", "ptr"], returns: "i32" },
} as const;

/**
 * One AEAD open in one native call. A call from JavaScript into native code
 * costs ~0.1 µs in Bun, and an open is five libcrypto calls; this C, compiled
 * at start-up by Bun's TinyCC (plugins/hw/cc.ts), makes them behind one
 * crossing, calling libcrypto through the addresses bun:ffi resolved
 * (`stitcher_aead_bind`). Same calls, same order, same checks as the
 * five-call path, which stays where this cannot be compiled; the backend's
 * probes (a known answer, a flipped tag refused) run through whichever is used.
 */
const ONE_CALL_SOURCE = `
typedef unsigned char u8;
typedef unsigned long long u64;
typedef int (*init_fn)(void *, void *, void *, const u8 *, const u8 *);
typedef int (*update_fn)(void *, u8 *, int *, const u8 *, int);
typedef int (*ctrl_fn)(void *, int, int, void *);
typedef int (*final_fn)(void *, u8 *, int *);
static init_fn evp_init;
static update_fn evp_update;
static ctrl_fn evp_ctrl;
static final_fn evp_final;

int stitcher_aead_bind(u64 init, u64 update, u64 ctrl, u64 fin) {
  evp_init = (init_fn)init;
  evp_update = (update_fn)update;
  evp_ctrl = (ctrl_fn)ctrl;
  evp_final = (final_fn)fin;
  return evp_init != 0 && evp_update != 0 && evp_ctrl != 0 && evp_final != 0;
}

/* EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce), the AAD, the ciphertext
   sealed[0, length - 16) into out, the tag sealed[length - 16, length),
   EVP_DecryptFinal_ex. Returns the plaintext length, or -1. */
int stitcher_aead_open(void *ctx, const u8 *nonce, const u8 *aad, int aad_length,
                       const u8 *sealed, int length, u8 *out) {
  u8 tag[16];
  u8 rest[64];
  int len = 0;
  int i;
  int n = length - 16;
  if (n < 0) return -1;
  for (i = 0; i < 16; i++) tag[i] = sealed[n + i];
  if (evp_init(ctx, 0, 0, 0, nonce) != 1) return -1;
  if (aad_length > 0 && evp_update(ctx, 0, &len, aad, aad_length) != 1) return -1;
  if (n > 0 && (evp_update(ctx, out, &len, sealed, n) != 1 || len != n)) return -1;
  if (evp_ctrl(ctx, ${EVP_CTRL_AEAD_SET_TAG}, 16, tag) != 1) return -1;
  if (evp_final(ctx, rest, &len) != 1) return -1;
  return n;
}
`;

/** `ONE_CALL_SOURCE` compiled and bound to the libcrypto functions `f`, or null. */
async function compileOneCall(
  f: Record<string, (...args: unknown[]) => unknown>,
): Promise<LibCrypto["openOnce"]> {
  const address = (name: string) => (f[name] as unknown as { ptr?: unknown }).ptr;
  const pointers = [
    "EVP_DecryptInit_ex",
    "EVP_DecryptUpdate",
    "EVP_CIPHER_CTX_ctrl",
    "EVP_DecryptFinal_ex",
  ].map(address);
  if (!pointers.every((p) => typeof p === "number" && p > 0)) return null;
  const c = await compileC("aead_open", ONE_CALL_SOURCE, {
    stitcher_aead_bind: { args: ["u64", "u64", "u64", "u64"], returns: "i32" },
    stitcher_aead_open: {
      args: ["ptr", "ptr", "ptr", "i32", "ptr", "i32", "ptr"],
      returns: "i32",
    },
  });
  if (c === null || c.stitcher_aead_bind(...pointers) !== 1) return null;
  const open = c.stitcher_aead_open;
  return (ctx, nonce, aad, aadLength, sealed, sealedLength, out) =>
    open(ctx, nonce, aad, aadLength, sealed, sealedLength, out);
}

async function loadBun(): Promise<LibCrypto | null> {
  // A computed specifier: Deno's checker must not try to resolve bun:ffi.
  const specifier = "bun:ffi";
  const ffi = await import(specifier) as BunFfi;
  for (const path of LIBRARIES) {
    let f: Record<string, (...args: unknown[]) => unknown>;
    try {
      f = ffi.dlopen(
        path,
        SIGNATURES as unknown as Record<string, { args: string[]; returns: string }>,
      )
        .symbols;
    } catch {
      continue;
    }
    return {
      path,
      ctxNew: () => f.EVP_CIPHER_CTX_new(),
      ctxFree: (ctx) => void f.EVP_CIPHER_CTX_free(ctx),
      cipher: (alg) => f[CIPHER_SYMBOLS[alg]](),
      init: (ctx, cipher, key, iv) => f.EVP_DecryptInit_ex(ctx, cipher, null, key, iv) as number,
      update: (ctx, out, outl, input, length) =>
        f.EVP_DecryptUpdate(ctx, out, outl, input, length) as number,
      setTag: (ctx, tag) =>
        f.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, tag.length, tag) as number,
      final: (ctx, out, outl) => f.EVP_DecryptFinal_ex(ctx, out, outl) as number,
      openOnce: await compileOneCall(f),
    };
  }
  return null;
}

function loadDeno(): LibCrypto | null {
  const symbols = {
    EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
    EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
    EVP_aes_128_gcm: { parameters: [], result: "pointer" },
    EVP_aes_256_gcm: { parameters: [], result: "pointer" },
    EVP_chacha20_poly1305: { parameters: [], result: "pointer" },
    EVP_DecryptInit_ex: {
      parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
      result: "i32",
    },
    EVP_DecryptUpdate: {
      parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
      result: "i32",
    },
    EVP_DecryptFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
    EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  } as const;
  for (const path of LIBRARIES) {
    let lib: Deno.DynamicLibrary<typeof symbols>;
    try {
      lib = Deno.dlopen(path, symbols);
    } catch {
      continue;
    }
    const f = lib.symbols;
    return {
      path,
      ctxNew: () => f.EVP_CIPHER_CTX_new(),
      ctxFree: (ctx) => f.EVP_CIPHER_CTX_free(ctx as Deno.PointerValue),
      cipher: (alg) => f[CIPHER_SYMBOLS[alg] as "EVP_aes_128_gcm"](),
      init: (ctx, cipher, key, iv) =>
        f.EVP_DecryptInit_ex(
          ctx as Deno.PointerValue,
          cipher as Deno.PointerValue,
          null,
          key as Uint8Array<ArrayBuffer> | null,
          iv as Uint8Array<ArrayBuffer> | null,
        ),
      update: (ctx, out, outl, input, length) =>
        f.EVP_DecryptUpdate(
          ctx as Deno.PointerValue,
          out as Uint8Array<ArrayBuffer> | null,
          outl as Int32Array<ArrayBuffer>,
          input as Uint8Array<ArrayBuffer>,
          length,
        ),
      setTag: (ctx, tag) =>
        f.EVP_CIPHER_CTX_ctrl(
          ctx as Deno.PointerValue,
          EVP_CTRL_AEAD_SET_TAG,
          tag.length,
          tag as Uint8Array<ArrayBuffer>,
        ),
      final: (ctx, out, outl) =>
        f.EVP_DecryptFinal_ex(
          ctx as Deno.PointerValue,
          out as Uint8Array<ArrayBuffer>,
          outl as Int32Array<ArrayBuffer>,
        ),
      openOnce: null,
    };
  }
  return null;
}

async function loadLibCrypto(): Promise<LibCrypto | null> {
  try {
    if ("Bun" in globalThis) return await loadBun();
    if ("Deno" in globalThis) return loadDeno();
  } catch {
    // No FFI, or not permitted (Deno without --allow-ffi).
  }
  return null;
}

interface KeyContext {
  alg: AeadAlg;
  ctx: Handle;
}

class OpenSslAead {
  private readonly contexts = new WeakMap<Uint8Array, KeyContext>();
  private readonly freeOnCollect: FinalizationRegistry<Handle>;
  private readonly ciphers = new Map<AeadAlg, Handle>();
  private out = new Uint8Array(16384 + 2048);
  private lastPlain: Uint8Array | null = null;
  private lastOut: Uint8Array | null = null;
  private readonly outLength = new Int32Array(1);
  private readonly tag = new Uint8Array(TAG_LEN);
  private readonly finalOut = new Uint8Array(64);

  constructor(private readonly lib: LibCrypto) {
    this.freeOnCollect = new FinalizationRegistry((ctx) => lib.ctxFree(ctx));
  }

  /** The context keyed to `key` (set up on first use); null when libcrypto refuses. */
  private context(alg: AeadAlg, key: Uint8Array): Handle | null {
    const known = this.contexts.get(key);
    if (known !== undefined && known.alg === alg) return known.ctx;
    let cipher = this.ciphers.get(alg);
    if (cipher === undefined) this.ciphers.set(alg, cipher = this.lib.cipher(alg));
    if (!cipher) return null;
    const ctx = this.lib.ctxNew();
    if (!ctx) return null;
    if (this.lib.init(ctx, cipher, key, null) !== 1) {
      this.lib.ctxFree(ctx);
      return null;
    }
    if (known !== undefined) {
      this.freeOnCollect.unregister(known);
      this.lib.ctxFree(known.ctx);
    }
    const entry: KeyContext = { alg, ctx };
    this.contexts.set(key, entry);
    this.freeOnCollect.register(key, ctx, entry);
    return ctx;
  }

  open(
    alg: AeadAlg,
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    sealed: Uint8Array,
  ): Uint8Array | null {
    checkKey(alg, key, AEAD_KEY_LEN[alg]);
    if (nonce.length !== 12) throw new Error(`${alg} needs a 12-byte nonce, got ${nonce.length}`);
    if (sealed.length < TAG_LEN) return null;
    const ctx = this.context(alg, key);
    if (ctx === null) throw new Error(`libcrypto refused a ${alg} context`);
    const n = sealed.length - TAG_LEN;
    // Room for the plaintext (final() writes nothing for an AEAD, and into its own buffer).
    if (this.out.length < n) this.out = new Uint8Array(n);
    const out = this.out, lib = this.lib;
    if (lib.openOnce !== null) {
      const opened = lib.openOnce(ctx, nonce, aad, aad.length, sealed, sealed.length, out);
      return opened === n ? this.plain(n) : null;
    }
    const len = this.outLength, tag = this.tag;
    for (let i = 0; i < TAG_LEN; i++) tag[i] = sealed[n + i];
    if (lib.init(ctx, null, null, nonce) !== 1) return null;
    if (aad.length > 0 && lib.update(ctx, null, len, aad, aad.length) !== 1) return null;
    if (n > 0 && (lib.update(ctx, out, len, sealed, n) !== 1 || len[0] !== n)) return null;
    if (lib.setTag(ctx, tag) !== 1) return null;
    if (lib.final(ctx, this.finalOut, len) !== 1) return null;
    return this.plain(n);
  }

  /** The first `n` bytes of `out`, as the last view when it has that length (full records do). */
  private plain(n: number): Uint8Array {
    let v = this.lastPlain;
    if (v === null || v.length !== n || this.lastOut !== this.out) {
      v = this.lastPlain = this.out.subarray(0, n);
      this.lastOut = this.out;
    }
    return v;
  }
}

/**
 * The libcrypto backend over `base` (which seals, decrypts CBC and computes
 * HMACs, and opens what libcrypto lacks), or null when no libcrypto can be
 * used here.
 */
export async function opensslBackend(base: CipherBackend): Promise<CipherBackend | null> {
  const lib = await loadLibCrypto();
  if (lib === null) return null;
  const aead = new OpenSslAead(lib);
  const open = (alg: AeadAlg, k: Uint8Array, n: Uint8Array, a: Uint8Array, s: Uint8Array) =>
    aead.open(alg, k, n, a, s);
  const ours = new Set<AeadAlg>();
  for (const p of AEAD_PROBES) {
    try {
      if (opensProbe(p, open)) ours.add(p.alg);
    } catch {
      // Not in this libcrypto (e.g. built without ChaCha20-Poly1305).
    }
  }
  if (ours.size === 0) return null;
  return {
    name: `openssl (${lib.path}${
      lib.openOnce !== null ? ", one call an open" : ""
    }) + ${base.name}`,
    supports: (alg: AeadAlg | CbcAlg) => ours.has(alg as AeadAlg) || base.supports(alg),
    aeadOpen: (alg, key, nonce, aad, sealed) =>
      ours.has(alg)
        ? aead.open(alg, key, nonce, aad, sealed)
        : base.aeadOpen(alg, key, nonce, aad, sealed),
    aeadSeal: (alg, key, nonce, aad, plain) => base.aeadSeal(alg, key, nonce, aad, plain),
    cbcDecrypt: (alg, key, iv, data) => base.cbcDecrypt(alg, key, iv, data),
    hmac: (hash, key, parts) => base.hmac(hash, key, parts),
  };
}
