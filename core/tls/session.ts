/**
 * The per-connection TLS decryptor: both directions' bytes in, application
 * plaintext out, with the secrets of an NSS key log.
 *
 * ```
 * TLS 1.2 (RFC 5246 §7.3)                    TLS 1.3 (RFC 8446 §2)
 * client            server                   client                     server
 * ClientHello  ─────▶                        ClientHello (+early data) ─▶        early keys
 *              ◀───── ServerHello ...        ◀─ ServerHello                       plaintext
 * ... CCS  ─────▶  (client keys on)          ◀─ {EncryptedExtensions..Finished}   server handshake keys
 * {Finished} ─────▶                          ◀─ [application data]                server traffic keys
 *              ◀───── CCS (server keys on)   (EndOfEarlyData) {Finished} ─▶       client handshake keys
 *              ◀───── {Finished}             [application data] ◀──▶              traffic keys, KeyUpdate
 * [application data] ◀────▶
 * ```
 *
 * Each direction is framed into records (record.ts). Records that need
 * something from the other direction (the server's records before the
 * ClientHello, the client's after it until the ServerHello, early data until
 * the server's EncryptedExtensions says whether it was accepted) are copied
 * and queued, up to `maxPendingBytes` in all. Everything else is handled as
 * it is framed, one cipher call per record, from a view of the pushed bytes.
 *
 * Plaintext passed to `events.plaintext` is valid only during the call (the
 * backend may reuse its buffer for the next record): copy it to keep it.
 *
 * Secrets never leave this file except through `secrets()`; failure details
 * name records, lengths and ids, never key material.
 */
import { DecodeError } from "../bytes/cursor.ts";
import { type CipherSuite, suiteById } from "./cipher_suites.ts";
import type { AeadAlg, CbcAlg, CipherBackend } from "./crypto.ts";
import {
  type ClientHello,
  decodeClientHello,
  decodeEncryptedExtensions,
  decodeKeyUpdate,
  decodeServerHello,
  type HandshakeMessage,
  HandshakeReassembler,
  HS_CLIENT_HELLO,
  HS_ENCRYPTED_EXTENSIONS,
  HS_END_OF_EARLY_DATA,
  HS_FINISHED,
  HS_KEY_UPDATE,
  HS_SERVER_HELLO,
} from "./handshake.ts";
import { type SessionKeys, sessionSecrets } from "./key_store.ts";
import {
  aad12,
  aad13,
  keyBlock12,
  type Mac,
  nextTrafficSecret13,
  nonce13,
  nonceChacha12,
  nonceGcm12,
  openCbc12,
  trafficKeys13,
} from "./key_schedule.ts";
import {
  CT_ALERT,
  CT_APPLICATION_DATA,
  CT_CHANGE_CIPHER_SPEC,
  CT_HANDSHAKE,
  CT_HEARTBEAT,
  RecordFramer,
  type TlsRecord,
} from "./record.ts";

export type TlsFailure =
  | "no_key"
  | "unsupported_suite"
  | "unsupported_version"
  | "gap"
  | "bad_tag"
  | "malformed_record"
  | "malformed_handshake"
  | "too_much_pending";

export type TlsState = "detecting" | "handshake" | "decrypting" | "not_tls" | "failed";

export interface TlsSessionEvents {
  plaintext(dir: 0 | 1, data: Uint8Array, sec: number, nsec: number): void;
}

export interface TlsSessionKeys {
  lookup(clientRandom: Uint8Array): SessionKeys | null;
}

export interface TlsSessionBackends {
  primary: CipherBackend;
  fallback: CipherBackend;
}

export interface TlsSessionOptions {
  /** Bytes of records held while waiting for the other direction; default 1 MiB. */
  maxPendingBytes?: number;
}

export interface TlsSessionStats {
  /** Records framed, both directions. */
  records: number;
  /** Records opened with a key. */
  decryptedRecords: number;
  /** Application plaintext emitted, per direction. */
  plaintextBytes: [number, number];
  keyUpdates: number;
  /** TLS 1.3 early data records: opened, or skipped (rejected, or no early secret). */
  earlyDataRecords: number;
}

export const DEFAULT_MAX_PENDING_BYTES = 1 << 20;
/** Early data skipped (rejected or without its key) before giving up (RFC 8446 §4.2.10). */
const MAX_SKIPPED_EARLY_BYTES = 4 << 20;
const MAX_CLIENT_HELLO_BODY = 64 * 1024;

type Phase =
  // client (direction 0)
  | "c_hello" // before the ClientHello
  | "c_wait_sh" // blocked: until the ServerHello
  | "c_after_hrr" // until the second ClientHello
  | "c_plain12" // TLS 1.2 until CCS
  | "c_wait_ee" // blocked: early data sent, until the server's EncryptedExtensions
  | "c_early" // early keys until EndOfEarlyData
  | "c_skip_early" // records failing handshake keys are skipped early data
  | "c_hs13" // client handshake keys until Finished
  // server (direction 1)
  | "s_wait_ch" // blocked: until the ClientHello
  | "s_wait_ch2" // blocked: after a HelloRetryRequest, until the second ClientHello
  | "s_hello" // expecting the ServerHello
  | "s_plain12"
  | "s_hs13"
  // both
  | "enc12" // TLS 1.2 records under keys
  | "app13" // TLS 1.3 traffic keys
  | "dead";

interface RecordCipher {
  alg: AeadAlg | CbcAlg;
  backend: CipherBackend;
  key: Uint8Array;
  /** 1.2 GCM salt, 1.2 ChaCha IV, 1.3 iv; empty for CBC. */
  iv: Uint8Array;
  macKey: Uint8Array;
  seq: number;
  /** TLS 1.3: the traffic secret these keys come from (for KeyUpdate). */
  secret: Uint8Array | null;
}

interface Pending {
  type: number;
  version: number;
  fragment: Uint8Array;
  sec: number;
  nsec: number;
}

class Direction {
  phase: Phase;
  cipher: RecordCipher | null = null;
  /** TLS 1.2: the keys that CCS turns on. TLS 1.3 client: handshake keys while early data may come. */
  next: RecordCipher | null = null;
  readonly framer: RecordFramer;
  readonly hs: HandshakeReassembler;
  queue: Pending[] = [];
  queueHead = 0;
  /** Set while a record's handshake messages call for a key change after the record. */
  switchAfter: "finished" | "key_update" | "end_of_early_data" | null = null;
  skippedEarlyBytes = 0;
  readonly nonce = new Uint8Array(12);
  readonly aad12 = new Uint8Array(13);
  readonly aad13 = new Uint8Array(5);

  constructor(phase: Phase, onRecord: (r: TlsRecord) => void, keep: (t: number) => boolean) {
    this.phase = phase;
    this.framer = new RecordFramer(onRecord);
    this.hs = new HandshakeReassembler(keep, MAX_CLIENT_HELLO_BODY);
  }

  get queued(): boolean {
    return this.queueHead < this.queue.length;
  }

  get blocked(): boolean {
    const p = this.phase;
    return p === "c_wait_sh" || p === "c_wait_ee" || p === "s_wait_ch" || p === "s_wait_ch2";
  }
}

const KEEP = new Set([
  HS_CLIENT_HELLO,
  HS_SERVER_HELLO,
  HS_ENCRYPTED_EXTENSIONS,
  HS_KEY_UPDATE,
]);

export class TlsSession {
  private _state: TlsState = "detecting";
  private _failure: TlsFailure | null = null;
  private _detail: string | null = null;
  private _version: "1.2" | "1.3" | null = null;
  private _suite: CipherSuite | null = null;
  private _clientRandom: Uint8Array | null = null;
  private keys: SessionKeys | null = null;
  private hello: ClientHello | null = null;
  private hrr = false;
  private encryptThenMac = false;
  private readonly dirs: [Direction, Direction];
  private readonly maxPending: number;
  private pendingBytes = 0;
  private sec = 0;
  private nsec = 0;
  private draining = false;
  /** Key derivation's HMAC: the primary backend's (native where it runs). */
  private readonly mac: Mac;

  readonly stats: TlsSessionStats = {
    records: 0,
    decryptedRecords: 0,
    plaintextBytes: [0, 0],
    keyUpdates: 0,
    earlyDataRecords: 0,
  };

  constructor(
    private readonly keyStore: TlsSessionKeys,
    private readonly backends: TlsSessionBackends,
    private readonly events: TlsSessionEvents,
    opts: TlsSessionOptions = {},
  ) {
    this.maxPending = opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    const primary = backends.primary;
    this.mac = (hash, key, parts) => primary.hmac(hash, key, parts);
    const keep = (t: number) => KEEP.has(t);
    this.dirs = [
      new Direction("c_hello", (r) => this.onRecord(0, r), keep),
      new Direction("s_wait_ch", (r) => this.onRecord(1, r), keep),
    ];
  }

  get state(): TlsState {
    return this._state;
  }

  get failure(): TlsFailure | null {
    return this._failure;
  }

  /** Why the session failed or is not TLS, in words (no key material). */
  get detail(): string | null {
    return this._detail;
  }

  /**
   * True once it is known whether this flow will be decrypted: not TLS,
   * failed, or decrypting with a key that has opened a record (a key found
   * for the client random is not yet a key that works).
   */
  get decided(): boolean {
    const s = this._state;
    return s === "not_tls" || s === "failed" ||
      (s === "decrypting" && this.stats.decryptedRecords > 0);
  }

  get version(): "1.2" | "1.3" | null {
    return this._version;
  }

  /** The IANA name of the negotiated suite, once the ServerHello is read. */
  get suite(): string | null {
    return this._suite?.name ?? null;
  }

  get clientRandom(): Uint8Array | null {
    return this._clientRandom;
  }

  /** Bytes of records queued while waiting for the other direction. */
  get pendingRecordBytes(): number {
    return this.pendingBytes;
  }

  /** The logged secrets of this session (for transparent mode). */
  secrets(): { label: string; clientRandom: Uint8Array; secret: Uint8Array }[] {
    if (this.keys === null || this._clientRandom === null) return [];
    return sessionSecrets(this._clientRandom, this.keys);
  }

  /** In-order stream bytes of direction `dir` (0 client→server). */
  push(dir: 0 | 1, bytes: Uint8Array, sec: number, nsec: number): void {
    const s = this._state;
    if (s === "failed" || s === "not_tls" || bytes.length === 0) return;
    if (s === "detecting" && dir === 0 && this.dirs[0].framer.offset === 0 && bytes[0] !== 22) {
      return this.notTls(`first client byte ${bytes[0]} is not a TLS handshake record (22)`);
    }
    this.sec = sec;
    this.nsec = nsec;
    const d = this.dirs[dir];
    d.framer.push(bytes);
    if (d.framer.error !== null && this.isLive()) {
      if (this._state === "detecting") this.notTls(d.framer.error);
      else this.fail("malformed_record", `${dirName(dir)}: ${d.framer.error}`);
    }
  }

  /** A hole in direction `dir`'s stream: decryption cannot continue. */
  gap(dir: 0 | 1): void {
    if (!this.isLive()) return;
    if (this._state === "detecting") {
      this.notTls(`${dirName(dir)} has a gap before a ClientHello was read`);
    } else {
      this.fail(
        "gap",
        `${dirName(dir)} has a gap at stream offset ${this.dirs[dir].framer.offset}`,
      );
    }
  }

  private isLive(): boolean {
    return this._state !== "failed" && this._state !== "not_tls";
  }

  private notTls(detail: string): void {
    this._state = "not_tls";
    this._detail = detail;
    this.shutdown();
  }

  private fail(failure: TlsFailure, detail: string): void {
    if (!this.isLive()) return;
    this._state = "failed";
    this._failure = failure;
    this._detail = detail;
    this.shutdown();
  }

  private shutdown(): void {
    for (const d of this.dirs) {
      d.framer.stop();
      d.phase = "dead";
      d.queue = [];
      d.queueHead = 0;
      d.cipher = null;
      d.next = null;
    }
    this.pendingBytes = 0;
  }

  private onRecord(dir: 0 | 1, r: TlsRecord): void {
    this.stats.records++;
    const d = this.dirs[dir];
    if (d.blocked || d.queued) {
      this.pendingBytes += r.fragment.length + 5;
      if (this.pendingBytes > this.maxPending) {
        return this.fail(
          "too_much_pending",
          `${dirName(dir)}: more than ${this.maxPending} bytes of records wait for the ${
            dirName(dir === 0 ? 1 : 0)
          } (phase ${d.phase})`,
        );
      }
      d.queue.push({
        type: r.type,
        version: r.version,
        fragment: r.fragment.slice(),
        sec: this.sec,
        nsec: this.nsec,
      });
      return;
    }
    this.handle(dir, r.type, r.version, r.fragment, this.sec, this.nsec);
    if (this.dirs[dir === 0 ? 1 : 0].queued) this.drain();
  }

  /** Handles queued records of both directions until neither can move. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      let moved = true;
      while (moved && this.isLive()) {
        moved = false;
        for (const dir of [0, 1] as const) {
          const d = this.dirs[dir];
          while (d.queued && !d.blocked && this.isLive()) {
            const p = d.queue[d.queueHead++];
            this.pendingBytes -= p.fragment.length + 5;
            this.handle(dir, p.type, p.version, p.fragment, p.sec, p.nsec);
            moved = true;
          }
          if (!d.queued && d.queueHead > 0) {
            d.queue = [];
            d.queueHead = 0;
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private handle(
    dir: 0 | 1,
    type: number,
    version: number,
    fragment: Uint8Array,
    sec: number,
    nsec: number,
  ): void {
    const d = this.dirs[dir];
    switch (d.phase) {
      case "enc12":
        return this.record12(dir, d, type, version, fragment, sec, nsec);
      case "app13":
      case "c_hs13":
      case "s_hs13":
        return this.record13(dir, d, type, version, fragment, sec, nsec);
      case "c_hello":
      case "c_after_hrr":
      case "s_hello":
        return this.helloRecord(dir, d, type, fragment);
      case "c_plain12":
      case "s_plain12":
        return this.plain12(dir, d, type, fragment);
      case "c_early":
      case "c_skip_early":
        return this.earlyRecord(d, type, version, fragment, sec, nsec);
      case "dead":
        return;
      default:
        // Blocked phases never reach here (their records are queued).
        return this.fail("malformed_record", `${dirName(dir)}: record in phase ${d.phase}`);
    }
  }

  // ---- plaintext handshake -------------------------------------------------

  private helloRecord(dir: 0 | 1, d: Direction, type: number, fragment: Uint8Array): void {
    if (type === CT_CHANGE_CIPHER_SPEC && d.phase !== "c_hello") return; // RFC 8446 §5 compat
    if (type === CT_ALERT) return;
    if (d.phase === "c_after_hrr" && type === CT_APPLICATION_DATA) {
      // Early data after a HelloRetryRequest is rejected (RFC 8446 §4.2.10).
      this.stats.earlyDataRecords++;
      return;
    }
    if (type !== CT_HANDSHAKE) {
      const what = `${dirName(dir)}: record type ${type} before the ${
        dir === 0 ? "ClientHello" : "ServerHello"
      }`;
      if (this._state === "detecting") return this.notTls(what);
      return this.fail("malformed_handshake", what);
    }
    this.feedHandshake(dir, d, fragment, (m) => {
      if (d.phase === "c_hello" || d.phase === "c_after_hrr") {
        if (m.type !== HS_CLIENT_HELLO || m.body === null) {
          const what = `client: handshake message type ${m.type} where a ClientHello belongs`;
          if (this._state === "detecting") this.notTls(what);
          else this.fail("malformed_handshake", what);
          return false;
        }
        return this.onClientHello(m.body);
      }
      if (d.phase === "s_hello") {
        if (m.type !== HS_SERVER_HELLO || m.body === null) {
          this.fail(
            "malformed_handshake",
            `server: handshake message type ${m.type} where a ServerHello belongs`,
          );
          return false;
        }
        return this.onServerHello(m.body);
      }
      return true; // messages after a TLS 1.2 ServerHello in the same record
    });
  }

  private feedHandshake(
    dir: 0 | 1,
    d: Direction,
    fragment: Uint8Array,
    out: (m: HandshakeMessage) => boolean | void,
  ): void {
    try {
      d.hs.push(fragment, (m) => this.isLive() && out(m) !== false);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      if (this._state === "detecting") this.notTls(`${dirName(dir)}: ${e.message}`);
      else this.fail("malformed_handshake", `${dirName(dir)}: ${e.message}`);
    }
  }

  private onClientHello(body: Uint8Array): boolean {
    let ch: ClientHello;
    try {
      ch = decodeClientHello(body);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      const what = `client: ClientHello: ${e.message}`;
      if (this._state === "detecting") this.notTls(what);
      else this.fail("malformed_handshake", what);
      return false;
    }
    const [c, s] = this.dirs;
    if (c.phase === "c_after_hrr") {
      // RFC 8446 §4.1.2: the second ClientHello keeps the random.
      if (!equalBytes(ch.random, this._clientRandom!)) {
        this.fail("malformed_handshake", "client: second ClientHello has another random");
        return false;
      }
      this.hello = ch;
      c.phase = "c_wait_sh";
      if (s.phase === "s_wait_ch2") s.phase = "s_hello";
      return true;
    }
    this._clientRandom = ch.random;
    this.hello = ch;
    const keys = this.keyStore.lookup(ch.random);
    if (keys === null) {
      this.fail("no_key", "no key log entry for this client random");
      return false;
    }
    this.keys = keys;
    this._state = "handshake";
    c.phase = "c_wait_sh";
    if (s.phase === "s_wait_ch") s.phase = "s_hello";
    return true;
  }

  private onServerHello(body: Uint8Array): boolean {
    let sh;
    try {
      sh = decodeServerHello(body);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.fail("malformed_handshake", `server: ServerHello: ${e.message}`);
      return false;
    }
    const [c, s] = this.dirs;
    if (sh.isHelloRetryRequest) {
      if (this.hrr || sh.version !== "1.3") {
        this.fail(
          "malformed_handshake",
          `server: HelloRetryRequest ${this.hrr ? "twice" : `for version ${sh.version}`}`,
        );
        return false;
      }
      this.hrr = true;
      c.phase = "c_after_hrr";
      s.phase = "s_wait_ch2";
      return true;
    }
    if (sh.version !== "1.2" && sh.version !== "1.3") {
      const v = (sh.supportedVersion ?? sh.legacyVersion).toString(16).padStart(4, "0");
      this.fail("unsupported_version", `server: ServerHello selects version 0x${v}`);
      return false;
    }
    this._version = sh.version;
    const suite = suiteById(sh.cipherSuite);
    if (suite === undefined || suite.version !== sh.version) {
      const hex = sh.cipherSuite.toString(16).padStart(4, "0");
      this.fail(
        "unsupported_suite",
        `server: ServerHello selects cipher suite 0x${hex}${
          suite ? ` (${suite.name}) for TLS ${sh.version}` : ""
        }`,
      );
      return false;
    }
    this._suite = suite;
    const alg = (suite.aead ?? suite.cbc)!;
    const backend = this.backendFor(alg);
    if (backend === null) {
      this.fail("unsupported_suite", `no cipher backend has ${alg} for ${suite.name}`);
      return false;
    }
    const keys = this.keys!;
    if (sh.version === "1.2") {
      if (keys.masterSecret?.length !== 48) {
        this.fail("no_key", "no 48-byte CLIENT_RANDOM entry for this TLS 1.2 session");
        return false;
      }
      const kb = keyBlock12(suite, keys.masterSecret, this._clientRandom!, sh.random, this.mac);
      this.encryptThenMac = suite.kind === "cbc" && this.hello!.encryptThenMac &&
        sh.encryptThenMac;
      const mk = (key: Uint8Array, iv: Uint8Array, macKey: Uint8Array): RecordCipher => ({
        alg,
        backend,
        key,
        iv,
        macKey,
        seq: 0,
        secret: null,
      });
      c.next = mk(kb.clientWriteKey, kb.clientWriteIv, kb.clientMacKey);
      s.next = mk(kb.serverWriteKey, kb.serverWriteIv, kb.serverMacKey);
      c.phase = "c_plain12";
      s.phase = "s_plain12";
    } else {
      const missing = (
        [
          ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", keys.clientHandshake],
          ["SERVER_HANDSHAKE_TRAFFIC_SECRET", keys.serverHandshake],
          ["CLIENT_TRAFFIC_SECRET_0", keys.clientTraffic0],
          ["SERVER_TRAFFIC_SECRET_0", keys.serverTraffic0],
        ] as const
      ).filter(([, v]) => v === undefined).map(([k]) => k);
      if (missing.length > 0) {
        this.fail("no_key", `no ${missing.join(", ")} for this TLS 1.3 session`);
        return false;
      }
      const hashLen = suite.prfHash === "sha384" ? 48 : 32;
      const sizes = [
        keys.clientHandshake!,
        keys.serverHandshake!,
        keys.clientTraffic0!,
        keys.serverTraffic0!,
      ]
        .map((k) => k.length);
      if (sizes.some((n) => n !== hashLen)) {
        this.fail(
          "no_key",
          `TLS 1.3 secrets of ${sizes.join("/")} bytes for ${suite.name}, which needs ${hashLen}`,
        );
        return false;
      }
      s.cipher = this.cipher13(suite, backend, keys.serverHandshake!);
      s.phase = "s_hs13";
      const hsKeys = this.cipher13(suite, backend, keys.clientHandshake!);
      if (this.hello!.earlyData && !this.hrr) {
        c.next = hsKeys;
        c.phase = "c_wait_ee";
      } else {
        c.cipher = hsKeys;
        c.phase = "c_hs13";
      }
    }
    this._state = "decrypting";
    return true;
  }

  private backendFor(alg: AeadAlg | CbcAlg): CipherBackend | null {
    const { primary, fallback } = this.backends;
    if (primary.supports(alg)) return primary;
    if (fallback.supports(alg)) return fallback;
    return null;
  }

  private cipher13(suite: CipherSuite, backend: CipherBackend, secret: Uint8Array): RecordCipher {
    const { key, iv } = trafficKeys13(suite, secret, this.mac);
    return { alg: suite.aead!, backend, key, iv, macKey: EMPTY, seq: 0, secret };
  }

  // ---- TLS 1.2 ---------------------------------------------------------------

  private plain12(dir: 0 | 1, d: Direction, type: number, fragment: Uint8Array): void {
    switch (type) {
      case CT_HANDSHAKE:
        return this.feedHandshake(dir, d, fragment, () => true);
      case CT_ALERT:
      case CT_HEARTBEAT:
        return;
      case CT_CHANGE_CIPHER_SPEC:
        if (d.hs.midMessage) {
          return this.fail(
            "malformed_handshake",
            `${dirName(dir)}: CCS inside a handshake message`,
          );
        }
        // RFC 5246 §7.1: the pending write state becomes current, seq 0.
        d.cipher = d.next;
        d.next = null;
        d.phase = "enc12";
        return;
      default:
        return this.fail(
          "malformed_record",
          `${dirName(dir)}: record type ${type} before ChangeCipherSpec`,
        );
    }
  }

  private record12(
    dir: 0 | 1,
    d: Direction,
    type: number,
    version: number,
    fragment: Uint8Array,
    sec: number,
    nsec: number,
  ): void {
    const c = d.cipher!;
    const plain = this.open12(c, d, type, version, fragment);
    if (plain === null) {
      if (this.isLive()) {
        this.fail(
          "bad_tag",
          `${dirName(dir)}: record ${c.seq} (type ${type}, ${fragment.length} bytes) does not open`,
        );
      }
      return;
    }
    c.seq++;
    this.stats.decryptedRecords++;
    if (type === CT_APPLICATION_DATA) this.emit(dir, plain, sec, nsec);
  }

  private open12(
    c: RecordCipher,
    d: Direction,
    type: number,
    version: number,
    fragment: Uint8Array,
  ): Uint8Array | null {
    try {
      const suite = this._suite!;
      if (suite.kind === "cbc") {
        return openCbc12(
          c.backend,
          suite,
          { key: c.key, macKey: c.macKey },
          c.seq,
          type,
          version,
          fragment,
          this.encryptThenMac,
        );
      }
      if (c.alg === "chacha20-poly1305") {
        if (fragment.length < 16) return null;
        nonceChacha12(c.iv, c.seq, d.nonce);
        aad12(c.seq, type, version, fragment.length - 16, d.aad12);
        return c.backend.aeadOpen(c.alg, c.key, d.nonce, d.aad12, fragment);
      }
      if (fragment.length < 8 + 16) return null;
      nonceGcm12(c.iv, fragment, d.nonce);
      aad12(c.seq, type, version, fragment.length - 24, d.aad12);
      return c.backend.aeadOpen(c.alg as AeadAlg, c.key, d.nonce, d.aad12, fragment.subarray(8));
    } catch (e) {
      this.fail("bad_tag", `cipher backend ${c.backend.name}: ${(e as Error).message}`);
      return null;
    }
  }

  // ---- TLS 1.3 ---------------------------------------------------------------

  /** Opens a TLS 1.3 record: [inner type, content] or null (RFC 8446 §5.2, §5.4). */
  private open13(
    c: RecordCipher,
    d: Direction,
    version: number,
    fragment: Uint8Array,
  ): Uint8Array | null {
    if (fragment.length < 17) return null;
    try {
      nonce13(c.iv, c.seq, d.nonce);
      aad13(CT_APPLICATION_DATA, version, fragment.length, d.aad13);
      return c.backend.aeadOpen(c.alg as AeadAlg, c.key, d.nonce, d.aad13, fragment);
    } catch (e) {
      this.fail("bad_tag", `cipher backend ${c.backend.name}: ${(e as Error).message}`);
      return null;
    }
  }

  private record13(
    dir: 0 | 1,
    d: Direction,
    type: number,
    version: number,
    fragment: Uint8Array,
    sec: number,
    nsec: number,
  ): void {
    if (type === CT_CHANGE_CIPHER_SPEC || type === CT_ALERT) return; // compat CCS, plaintext alert
    if (type !== CT_APPLICATION_DATA) {
      return this.fail(
        "malformed_record",
        `${dirName(dir)}: record type ${type} among TLS 1.3 encrypted records`,
      );
    }
    const c = d.cipher!;
    const inner = this.open13(c, d, version, fragment);
    if (inner === null) {
      if (this.isLive()) {
        this.fail(
          "bad_tag",
          `${dirName(dir)}: ${d.phase} record ${c.seq} (${fragment.length} bytes) does not open`,
        );
      }
      return;
    }
    c.seq++;
    this.stats.decryptedRecords++;
    this.inner13(dir, d, inner, sec, nsec);
  }

  /** Handles an opened TLSInnerPlaintext (RFC 8446 §5.4), then any key change it calls for. */
  private inner13(dir: 0 | 1, d: Direction, inner: Uint8Array, sec: number, nsec: number): void {
    let end = inner.length - 1;
    while (end >= 0 && inner[end] === 0) end--;
    if (end < 0) {
      return this.fail("malformed_record", `${dirName(dir)}: TLSInnerPlaintext is all padding`);
    }
    const type = inner[end];
    const content = inner.subarray(0, end);
    switch (type) {
      case CT_APPLICATION_DATA:
        if (d.phase === "c_early") this.stats.earlyDataRecords++;
        else if (d.phase !== "app13") {
          return this.fail("malformed_record", `${dirName(dir)}: application data in ${d.phase}`);
        }
        this.emit(dir, content, sec, nsec);
        return;
      case CT_ALERT:
        return;
      case CT_HANDSHAKE:
        this.feedHandshake(dir, d, content, (m) => this.message13(dir, d, m));
        break;
      default:
        return this.fail("malformed_record", `${dirName(dir)}: inner content type ${type}`);
    }
    const change = d.switchAfter;
    if (change === null || !this.isLive()) return;
    d.switchAfter = null;
    if (d.hs.midMessage) {
      return this.fail(
        "malformed_handshake",
        `${dirName(dir)}: a handshake message spans a key change (RFC 8446 §5.1)`,
      );
    }
    const suite = this._suite!;
    const keys = this.keys!;
    const cur = d.cipher!;
    if (change === "finished") {
      d.cipher = this.cipher13(
        suite,
        cur.backend,
        dir === 0 ? keys.clientTraffic0! : keys.serverTraffic0!,
      );
      d.phase = "app13";
    } else if (change === "end_of_early_data") {
      d.cipher = d.next;
      d.next = null;
      d.phase = "c_hs13";
    } else {
      // RFC 8446 §7.2: application_traffic_secret_N+1, sequence number reset.
      d.cipher = this.cipher13(
        suite,
        cur.backend,
        nextTrafficSecret13(suite.prfHash, cur.secret!, this.mac),
      );
      this.stats.keyUpdates++;
    }
  }

  private message13(dir: 0 | 1, d: Direction, m: HandshakeMessage): boolean {
    switch (m.type) {
      case HS_ENCRYPTED_EXTENSIONS: {
        if (dir !== 1 || d.phase !== "s_hs13") return true;
        let earlyData = false;
        try {
          earlyData = decodeEncryptedExtensions(m.body!).earlyData;
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          this.fail("malformed_handshake", `server: EncryptedExtensions: ${e.message}`);
          return false;
        }
        this.onEarlyDataAnswer(earlyData);
        return true;
      }
      case HS_FINISHED:
        if (d.phase === "c_hs13" || d.phase === "s_hs13") d.switchAfter = "finished";
        return true;
      case HS_END_OF_EARLY_DATA:
        if (d.phase === "c_early") d.switchAfter = "end_of_early_data";
        return true;
      case HS_KEY_UPDATE:
        if (d.phase !== "app13") return true;
        try {
          decodeKeyUpdate(m.body!);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          this.fail("malformed_handshake", `${dirName(dir)}: ${e.message}`);
          return false;
        }
        // The peer answers an update_requested with its own KeyUpdate, which
        // arrives in its direction (RFC 8446 §4.6.3).
        d.switchAfter = "key_update";
        return true;
    }
    return true;
  }

  /** The server's EncryptedExtensions says whether early data was accepted (RFC 8446 §4.2.10). */
  private onEarlyDataAnswer(accepted: boolean): void {
    const c = this.dirs[0];
    if (c.phase !== "c_wait_ee") return;
    const early = this.keys!.clientEarly;
    if (accepted && early !== undefined) {
      c.cipher = this.cipher13(this._suite!, c.next!.backend, early);
      c.phase = "c_early";
    } else {
      c.cipher = c.next;
      c.phase = "c_skip_early";
    }
  }

  /**
   * Client records while early data may come: opened with the early keys
   * (until EndOfEarlyData); one that does not open there, or any record when
   * early data was rejected or its key is unknown, is tried with the
   * handshake keys, and skipped as early data when that fails too.
   */
  private earlyRecord(
    d: Direction,
    type: number,
    version: number,
    fragment: Uint8Array,
    sec: number,
    nsec: number,
  ): void {
    if (type === CT_CHANGE_CIPHER_SPEC || type === CT_ALERT) return;
    if (type !== CT_APPLICATION_DATA) {
      return this.fail("malformed_record", `client: record type ${type} among early data`);
    }
    if (d.phase === "c_early") {
      const inner = this.open13(d.cipher!, d, version, fragment);
      if (inner !== null) {
        d.cipher!.seq++;
        this.stats.decryptedRecords++;
        return this.inner13(0, d, inner, sec, nsec);
      }
      if (!this.isLive()) return;
    }
    const hsKeys = d.phase === "c_early" ? d.next! : d.cipher!;
    const inner = this.open13(hsKeys, d, version, fragment);
    if (inner !== null) {
      hsKeys.seq++;
      this.stats.decryptedRecords++;
      d.cipher = hsKeys;
      d.next = null;
      d.phase = "c_hs13";
      d.hs.reset();
      return this.inner13(0, d, inner, sec, nsec);
    }
    if (!this.isLive()) return;
    if (d.phase === "c_early") {
      return this.fail(
        "bad_tag",
        `client: early data record ${d.cipher!.seq} (${fragment.length} bytes) does not open`,
      );
    }
    this.stats.earlyDataRecords++;
    d.skippedEarlyBytes += fragment.length;
    if (d.skippedEarlyBytes > MAX_SKIPPED_EARLY_BYTES) {
      this.fail(
        "bad_tag",
        `client: more than ${MAX_SKIPPED_EARLY_BYTES} bytes of records open with no key`,
      );
    }
  }

  private emit(dir: 0 | 1, data: Uint8Array, sec: number, nsec: number): void {
    if (data.length === 0) return;
    this.stats.plaintextBytes[dir] += data.length;
    this.events.plaintext(dir, data, sec, nsec);
  }
}

const EMPTY = new Uint8Array(0);

function dirName(dir: 0 | 1): string {
  return dir === 0 ? "client" : "server";
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
