/**
 * TLS handshake messages (RFC 8446 §4, RFC 5246 §7.4): reassembly of
 * messages out of handshake records, and the parsers the decryptor needs.
 *
 * ```
 * Handshake (RFC 8446 §4)            ClientHello (§4.1.2)               ServerHello (§4.1.3)
 * +------+----------------+          legacy_version      u16            legacy_version       u16
 * | type |     length     |          random              [32]           random               [32]
 * |  u8  |      u24       |          legacy_session_id   <0..32>        legacy_session_id_echo <0..32>
 * +------+----------------+          cipher_suites       <2..2^16-2>    cipher_suite         u16
 * | body (length bytes) ...          legacy_compression  <1..2^8-1>     legacy_compression   u8
 * +-------------------------          extensions          <8..2^16-1>    extensions           <6..2^16-1>
 *
 * Extension (§4.2): extension_type u16, extension_data <0..2^16-1>
 * KeyUpdate (§4.6.3): request_update u8 (0 update_not_requested, 1 update_requested)
 * ```
 *
 * A message may be split over several records and several messages may
 * share one record (§5.1); `HandshakeReassembler` puts them back together,
 * keeping the bodies only of the types it is asked to keep (bounded by
 * `maxBody`) and counting past the others without buffering them.
 *
 * Decoders take the message body (after the 4-byte header) and throw
 * `DecodeError`; their results copy what they keep (random, session id).
 */
import { ByteReader, ByteWriter, DecodeError } from "../bytes/cursor.ts";
import { fromHex } from "../bytes/hex.ts";

export const HS_HELLO_REQUEST = 0;
export const HS_CLIENT_HELLO = 1;
export const HS_SERVER_HELLO = 2;
export const HS_NEW_SESSION_TICKET = 4;
export const HS_END_OF_EARLY_DATA = 5;
export const HS_ENCRYPTED_EXTENSIONS = 8;
export const HS_CERTIFICATE = 11;
export const HS_SERVER_KEY_EXCHANGE = 12;
export const HS_CERTIFICATE_REQUEST = 13;
export const HS_SERVER_HELLO_DONE = 14;
export const HS_CERTIFICATE_VERIFY = 15;
export const HS_CLIENT_KEY_EXCHANGE = 16;
export const HS_FINISHED = 20;
export const HS_KEY_UPDATE = 24;

export const EXT_SERVER_NAME = 0;
export const EXT_ENCRYPT_THEN_MAC = 22;
export const EXT_EXTENDED_MASTER_SECRET = 23;
export const EXT_PRE_SHARED_KEY = 41;
export const EXT_EARLY_DATA = 42;
export const EXT_SUPPORTED_VERSIONS = 43;
export const EXT_KEY_SHARE = 51;

export const TLS12 = 0x0303;
export const TLS13 = 0x0304;

/** SHA-256("HelloRetryRequest"): the random of a HelloRetryRequest (RFC 8446 §4.1.3). */
export const HELLO_RETRY_REQUEST_RANDOM: Uint8Array = fromHex(
  "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c",
);

/** Default bound on a kept message body. */
export const MAX_HANDSHAKE_BODY = 64 * 1024;

export interface HandshakeMessage {
  type: number;
  /** Body length from the header. */
  length: number;
  /**
   * The body when its type is kept, else null. A view valid only during the
   * callback when the message sat inside one fragment.
   */
  body: Uint8Array | null;
}

export class HandshakeReassembler {
  private readonly head = new Uint8Array(4);
  private headLen = 0;
  private type = -1;
  private length = 0;
  /** Body bytes still to come for the current message. */
  private left = 0;
  private body: Uint8Array | null = null;
  private bodyLen = 0;
  private readonly msg: HandshakeMessage = { type: 0, length: 0, body: null };

  constructor(
    private readonly keep: (type: number) => boolean,
    private readonly maxBody = MAX_HANDSHAKE_BODY,
  ) {}

  /** True when a message has started and not yet ended (a key change must not fall here, §5.1). */
  get midMessage(): boolean {
    return this.headLen > 0;
  }

  /** Forgets any partial message. */
  reset(): void {
    this.headLen = 0;
    this.left = 0;
    this.body = null;
    this.bodyLen = 0;
  }

  /**
   * Feeds one handshake fragment; calls `out` per completed message. Throws
   * `DecodeError` when a kept message is longer than `maxBody`. `out` may
   * return false to stop (the rest of the fragment is not read).
   */
  push(fragment: Uint8Array, out: (m: HandshakeMessage) => boolean | void): void {
    const r = new ByteReader(fragment);
    while (r.remaining > 0) {
      if (this.headLen < 4) {
        if (this.headLen === 0 && r.remaining >= 4) {
          this.type = r.u8("handshake type");
          this.length = (r.u8("handshake length") << 16) | r.u16be("handshake length");
          this.headLen = 4;
        } else {
          const n = Math.min(4 - this.headLen, r.remaining);
          this.head.set(r.bytes(n, "handshake header"), this.headLen);
          this.headLen += n;
          if (this.headLen < 4) return;
          const h = new ByteReader(this.head);
          this.type = h.u8("handshake type");
          this.length = (h.u8("handshake length") << 16) | h.u16be("handshake length");
        }
        this.left = this.length;
        const kept = this.keep(this.type);
        if (kept && this.length > this.maxBody) {
          const t = this.type, len = this.length;
          this.reset();
          throw new DecodeError(
            `handshake message type ${t}: length ${len} > ${this.maxBody}`,
            r.pos,
          );
        }
        this.body = null;
        this.bodyLen = 0;
        if (kept && r.remaining >= this.length) {
          // Zero-copy: the whole body is in this fragment.
          const body = r.bytes(this.length, "handshake body");
          this.left = 0;
          this.headLen = 0;
          if (!this.emit(out, body)) return;
          continue;
        }
        if (kept) this.body = new Uint8Array(this.length);
      }
      const n = Math.min(this.left, r.remaining);
      if (n > 0) {
        const part = r.bytes(n, "handshake body");
        if (this.body !== null) this.body.set(part, this.bodyLen);
        this.bodyLen += n;
        this.left -= n;
      }
      if (this.left > 0) return;
      const body = this.body;
      this.body = null;
      this.bodyLen = 0;
      this.headLen = 0;
      if (!this.emit(out, body)) return;
    }
  }

  private emit(out: (m: HandshakeMessage) => boolean | void, body: Uint8Array | null): boolean {
    const m = this.msg;
    m.type = this.type;
    m.length = this.length;
    m.body = body;
    return out(m) !== false;
  }
}

/** One handshake message: header and body. */
export function encodeHandshake(type: number, body: Uint8Array): Uint8Array {
  return new ByteWriter(4 + body.length)
    .u8(type).u8(body.length >>> 16).u16be(body.length & 0xffff).bytes(body).toBytes();
}

export interface ClientHello {
  legacyVersion: number;
  /** 32 bytes (a copy). */
  random: Uint8Array;
  /** 0..32 bytes (a copy). */
  sessionId: Uint8Array;
  cipherSuites: number[];
  /** Extension types in order of appearance. */
  extensions: number[];
  /** The first host_name of server_name (RFC 6066 §3), or "". */
  serverName: string;
  /** supported_versions (RFC 8446 §4.2.1); empty when absent. */
  supportedVersions: number[];
  /** Groups of the key_share entries (RFC 8446 §4.2.8); empty when absent. */
  keyShareGroups: number[];
  /** Identities offered in pre_shared_key (RFC 8446 §4.2.11); 0 when absent. */
  pskIdentities: number;
  earlyData: boolean;
  encryptThenMac: boolean;
  extendedMasterSecret: boolean;
}

export type NegotiatedVersion = "1.0" | "1.1" | "1.2" | "1.3";

export interface ServerHello {
  legacyVersion: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuite: number;
  compressionMethod: number;
  extensions: number[];
  /** The supported_versions selection, or null when absent. */
  supportedVersion: number | null;
  /** From supported_versions, else legacy_version; null for a version not listed. */
  version: NegotiatedVersion | null;
  isHelloRetryRequest: boolean;
  /** pre_shared_key selected_identity, or null when absent. */
  selectedIdentity: number | null;
  /** key_share group (the selected group in a HelloRetryRequest), or null. */
  keyShareGroup: number | null;
  encryptThenMac: boolean;
  extendedMasterSecret: boolean;
}

function versionName(v: number): NegotiatedVersion | null {
  switch (v) {
    case 0x0301:
      return "1.0";
    case 0x0302:
      return "1.1";
    case 0x0303:
      return "1.2";
    case 0x0304:
      return "1.3";
  }
  return null;
}

function readExtensions(
  h: ByteReader,
  what: string,
  onExt: (type: number, data: ByteReader) => void,
): number[] {
  const types: number[] = [];
  if (h.remaining === 0) return types; // extensions are optional before TLS 1.3 (RFC 5246 §7.4.1.2)
  const len = h.u16be(`${what} extensions length`);
  h.need(len, `${what} extensions`);
  const x = new ByteReader(h.buf, h.pos, h.pos + len);
  h.skip(len);
  // Built once per call, not per extension: the reads below run for every hello.
  const typeWhat = `${what} extension type`, lengthWhat = `${what} extension length`;
  while (x.remaining > 0) {
    const type = x.u16be(typeWhat);
    const dlen = x.u16be(lengthWhat);
    if (dlen > x.remaining) x.need(dlen, `${what} extension ${type} data`);
    if (types.includes(type)) {
      throw new DecodeError(`${what}: extension ${type} appears twice`, x.pos - 4);
    }
    types.push(type);
    onExt(type, new ByteReader(x.buf, x.pos, x.pos + dlen));
    x.skip(dlen);
  }
  return types;
}

/** Decodes a ClientHello body (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2). */
export function decodeClientHello(body: Uint8Array): ClientHello {
  const h = new ByteReader(body);
  const legacyVersion = h.u16be("ClientHello legacy_version");
  const random = h.bytes(32, "ClientHello random").slice();
  const sidLen = h.u8("ClientHello session_id length");
  if (sidLen > 32) throw new DecodeError(`ClientHello session_id length ${sidLen} > 32`, h.pos - 1);
  const sessionId = h.bytes(sidLen, "ClientHello session_id").slice();
  const csLen = h.u16be("ClientHello cipher_suites length");
  if (csLen % 2 !== 0) {
    throw new DecodeError(`ClientHello cipher_suites length ${csLen} is odd`, h.pos - 2);
  }
  const cs = new ByteReader(h.bytes(csLen, "ClientHello cipher_suites"));
  const cipherSuites: number[] = [];
  while (cs.remaining > 0) cipherSuites.push(cs.u16be("cipher suite"));
  h.skip(h.u8("ClientHello compression_methods length"), "ClientHello compression_methods");
  const ch: ClientHello = {
    legacyVersion,
    random,
    sessionId,
    cipherSuites,
    extensions: [],
    serverName: "",
    supportedVersions: [],
    keyShareGroups: [],
    pskIdentities: 0,
    earlyData: false,
    encryptThenMac: false,
    extendedMasterSecret: false,
  };
  ch.extensions = readExtensions(h, "ClientHello", (type, x) => {
    switch (type) {
      case EXT_SERVER_NAME:
        ch.serverName = readServerName(x);
        break;
      case EXT_SUPPORTED_VERSIONS: {
        const n = x.u8("supported_versions length");
        const v = new ByteReader(x.bytes(n, "supported_versions"));
        while (v.remaining > 0) ch.supportedVersions.push(v.u16be("supported version"));
        break;
      }
      case EXT_KEY_SHARE: {
        const n = x.u16be("key_share client_shares length");
        const ks = new ByteReader(x.bytes(n, "key_share client_shares"));
        while (ks.remaining > 0) {
          ch.keyShareGroups.push(ks.u16be("key_share group"));
          ks.skip(ks.u16be("key_exchange length"), "key_exchange");
        }
        break;
      }
      case EXT_PRE_SHARED_KEY: {
        // RFC 8446 §4.2.11: OfferedPsks { identities<7..2^16-1>, binders<33..2^16-1> }
        const n = x.u16be("pre_shared_key identities length");
        const ids = new ByteReader(x.bytes(n, "pre_shared_key identities"));
        while (ids.remaining > 0) {
          ids.skip(ids.u16be("psk identity length"), "psk identity");
          ids.skip(4, "obfuscated_ticket_age");
          ch.pskIdentities++;
        }
        break;
      }
      case EXT_EARLY_DATA:
        ch.earlyData = true;
        break;
      case EXT_ENCRYPT_THEN_MAC:
        ch.encryptThenMac = true;
        break;
      case EXT_EXTENDED_MASTER_SECRET:
        ch.extendedMasterSecret = true;
        break;
    }
  });
  return ch;
}

const UTF8 = new TextDecoder("utf-8", { fatal: false });

/** RFC 6066 §3: server_name_list, the first host_name entry. */
function readServerName(r: ByteReader): string {
  const listEnd = r.u16be("server_name_list length") + r.pos;
  while (r.pos < listEnd && r.remaining > 0) {
    const type = r.u8("server name_type");
    const name = r.bytes(r.u16be("server host_name length"), "server host_name");
    if (type === 0) return UTF8.decode(name);
  }
  return "";
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Decodes a ServerHello body, HelloRetryRequest included (RFC 8446 §4.1.3, §4.1.4). */
export function decodeServerHello(body: Uint8Array): ServerHello {
  const h = new ByteReader(body);
  const legacyVersion = h.u16be("ServerHello legacy_version");
  const random = h.bytes(32, "ServerHello random").slice();
  const sidLen = h.u8("ServerHello session_id length");
  if (sidLen > 32) throw new DecodeError(`ServerHello session_id length ${sidLen} > 32`, h.pos - 1);
  const sessionId = h.bytes(sidLen, "ServerHello session_id").slice();
  const cipherSuite = h.u16be("ServerHello cipher_suite");
  const compressionMethod = h.u8("ServerHello compression_method");
  const isHelloRetryRequest = equalBytes(random, HELLO_RETRY_REQUEST_RANDOM);
  const sh: ServerHello = {
    legacyVersion,
    random,
    sessionId,
    cipherSuite,
    compressionMethod,
    extensions: [],
    supportedVersion: null,
    version: null,
    isHelloRetryRequest,
    selectedIdentity: null,
    keyShareGroup: null,
    encryptThenMac: false,
    extendedMasterSecret: false,
  };
  sh.extensions = readExtensions(h, "ServerHello", (type, x) => {
    switch (type) {
      case EXT_SUPPORTED_VERSIONS:
        sh.supportedVersion = x.u16be("supported_versions selected_version");
        break;
      case EXT_KEY_SHARE:
        // ServerHello: KeyShareEntry; HelloRetryRequest: selected_group only (§4.2.8).
        sh.keyShareGroup = x.u16be("key_share group");
        break;
      case EXT_PRE_SHARED_KEY:
        sh.selectedIdentity = x.u16be("pre_shared_key selected_identity");
        break;
      case EXT_ENCRYPT_THEN_MAC:
        sh.encryptThenMac = true;
        break;
      case EXT_EXTENDED_MASTER_SECRET:
        sh.extendedMasterSecret = true;
        break;
    }
  });
  sh.version = versionName(sh.supportedVersion ?? legacyVersion);
  return sh;
}

/** Extension types of an EncryptedExtensions body (RFC 8446 §4.3.1). */
export function decodeEncryptedExtensions(
  body: Uint8Array,
): { extensions: number[]; earlyData: boolean } {
  const h = new ByteReader(body);
  if (h.remaining < 2) throw new DecodeError(`EncryptedExtensions of ${h.remaining} bytes`, 0);
  const extensions = readExtensions(h, "EncryptedExtensions", () => {});
  if (h.remaining > 0) {
    throw new DecodeError(`EncryptedExtensions: ${h.remaining} bytes after the extensions`, h.pos);
  }
  return { extensions, earlyData: extensions.includes(EXT_EARLY_DATA) };
}

/** KeyUpdate (RFC 8446 §4.6.3). */
export function decodeKeyUpdate(body: Uint8Array): { requestUpdate: boolean } {
  const h = new ByteReader(body);
  const v = h.u8("KeyUpdate request_update");
  if (v > 1 || h.remaining > 0) {
    throw new DecodeError(`KeyUpdate request_update ${v} of a ${body.length}-byte body`, 0);
  }
  return { requestUpdate: v === 1 };
}

export function encodeKeyUpdate(requestUpdate: boolean): Uint8Array {
  return encodeHandshake(HS_KEY_UPDATE, Uint8Array.of(requestUpdate ? 1 : 0));
}

/** Extension data for the hello encoders: type and raw data. */
export type RawExtension = [type: number, data: Uint8Array];

function writeExtensions(w: ByteWriter, exts: readonly RawExtension[]): void {
  const x = new ByteWriter(256);
  for (const [type, data] of exts) x.u16be(type).u16be(data.length).bytes(data);
  w.u16be(x.pos).bytes(x.written());
}

/** A ClientHello handshake message (header included), for tests and fixtures. */
export function encodeClientHello(o: {
  random: Uint8Array;
  sessionId?: Uint8Array;
  cipherSuites: number[];
  extensions?: readonly RawExtension[];
}): Uint8Array {
  const w = new ByteWriter(512);
  w.u16be(TLS12).bytes(o.random);
  const sid = o.sessionId ?? new Uint8Array(0);
  w.u8(sid.length).bytes(sid);
  w.u16be(o.cipherSuites.length * 2);
  for (const c of o.cipherSuites) w.u16be(c);
  w.u8(1).u8(0);
  if (o.extensions) writeExtensions(w, o.extensions);
  return encodeHandshake(HS_CLIENT_HELLO, w.written());
}

/** A ServerHello handshake message (header included), for tests and fixtures. */
export function encodeServerHello(o: {
  random: Uint8Array;
  sessionId?: Uint8Array;
  cipherSuite: number;
  extensions?: readonly RawExtension[];
}): Uint8Array {
  const w = new ByteWriter(256);
  w.u16be(TLS12).bytes(o.random);
  const sid = o.sessionId ?? new Uint8Array(0);
  w.u8(sid.length).bytes(sid);
  w.u16be(o.cipherSuite).u8(0);
  if (o.extensions) writeExtensions(w, o.extensions);
  return encodeHandshake(HS_SERVER_HELLO, w.written());
}

/** Extension data builders for the encoders. */
export const extData = {
  serverName(name: string): Uint8Array {
    const n = new TextEncoder().encode(name);
    return new ByteWriter(5 + n.length).u16be(n.length + 3).u8(0).u16be(n.length).bytes(n)
      .toBytes();
  },
  clientVersions(versions: number[]): Uint8Array {
    const w = new ByteWriter(1 + versions.length * 2).u8(versions.length * 2);
    for (const v of versions) w.u16be(v);
    return w.toBytes();
  },
  serverVersion(v: number): Uint8Array {
    return new ByteWriter(2).u16be(v).toBytes();
  },
  clientKeyShare(groups: number[]): Uint8Array {
    const x = new ByteWriter(64);
    for (const g of groups) x.u16be(g).u16be(32).bytes(new Uint8Array(32));
    return new ByteWriter(2 + x.pos).u16be(x.pos).bytes(x.written()).toBytes();
  },
  clientPsk(identities: number): Uint8Array {
    const ids = new ByteWriter(64);
    for (let i = 0; i < identities; i++) ids.u16be(4).u32be(i).u32be(0);
    const binders = new ByteWriter(64);
    for (let i = 0; i < identities; i++) binders.u8(32).bytes(new Uint8Array(32));
    return new ByteWriter(128).u16be(ids.pos).bytes(ids.written()).u16be(binders.pos)
      .bytes(binders.written()).toBytes();
  },
  u16(v: number): Uint8Array {
    return new ByteWriter(2).u16be(v).toBytes();
  },
  empty: new Uint8Array(0),
};
