/**
 * Finds the ClientHello at the start of a client's byte stream and reads
 * what `stitcher pack` and the key store need from it: the client random
 * (the key log's lookup key) and the SNI server name.
 *
 * TLS record (RFC 8446 §5.1)          Handshake (§4)              ClientHello (§4.1.2)
 * +------+---------+--------+         +------+--------+           legacy_version u16, random[32],
 * | type | version | length |         | type | length |           session_id<0..32>, cipher_suites<2..>,
 * |  u8  |   u16   |  u16   |         |  u8  |  u24   |           compression<1..>, extensions<8..>
 * +------+---------+--------+         +------+--------+
 *
 * The handshake message may span several records (and several segments);
 * `sniffClientHello` is given the stream's first bytes and answers "need
 * more", "not TLS", or the hello.
 */
import { ByteReader, DecodeError } from "../bytes/cursor.ts";

export interface ClientHelloInfo {
  random: Uint8Array;
  serverName: string;
}

const CONTENT_HANDSHAKE = 22;
const HS_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
/** A ClientHello larger than this is not waited for. */
export const MAX_CLIENT_HELLO = 64 * 1024;

/** `"more"` when the bytes end before the hello does, null when this is not a TLS ClientHello. */
export function sniffClientHello(stream: Uint8Array): ClientHelloInfo | "more" | null {
  // Gather the handshake bytes out of consecutive handshake records.
  const hs: Uint8Array[] = [];
  let hsLen = 0;
  let pos = 0;
  let want = -1;
  while (want < 0 || hsLen < want) {
    if (pos + 5 > stream.length) return stream.length >= MAX_CLIENT_HELLO ? null : "more";
    if (stream[pos] !== CONTENT_HANDSHAKE || stream[pos + 1] !== 3) return null;
    const len = (stream[pos + 3] << 8) | stream[pos + 4];
    if (len === 0 || len > 16384) return null;
    if (pos + 5 + len > stream.length) {
      hs.push(stream.subarray(pos + 5));
      hsLen += stream.length - pos - 5;
      if (want < 0 && hsLen >= 4) want = handshakeLength(hs);
      if (want > MAX_CLIENT_HELLO) return null;
      return stream.length >= MAX_CLIENT_HELLO ? null : "more";
    }
    hs.push(stream.subarray(pos + 5, pos + 5 + len));
    hsLen += len;
    pos += 5 + len;
    if (want < 0 && hsLen >= 4) {
      want = handshakeLength(hs);
      if (want < 0 || want > MAX_CLIENT_HELLO) return null;
    }
  }
  const body = concat(hs, hsLen);
  try {
    return parseClientHello(body);
  } catch (e) {
    if (e instanceof DecodeError) return null;
    throw e;
  }
}

function handshakeLength(parts: Uint8Array[]): number {
  const first4 = concat(parts, 4);
  if (first4[0] !== HS_CLIENT_HELLO) return -1;
  return 4 + ((first4[1] << 16) | (first4[2] << 8) | first4[3]);
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts[0].length >= n) return parts[0].subarray(0, n);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    const take = Math.min(p.length, n - at);
    out.set(p.subarray(0, take), at);
    at += take;
    if (at === n) break;
  }
  return out;
}

/** Parses a handshake message that holds a ClientHello (type, u24 length, body). */
export function parseClientHello(msg: Uint8Array): ClientHelloInfo {
  const r = new ByteReader(msg);
  if (r.u8("handshake type") !== HS_CLIENT_HELLO) {
    throw new DecodeError(`handshake type ${msg[0]} is not ClientHello (1)`, 0);
  }
  const len = (r.u8("length") << 16) | r.u16be("length");
  const end = r.pos + len;
  r.need(len, "ClientHello body");
  const h = new ByteReader(msg, r.pos, end);
  h.skip(2, "legacy_version");
  const random = h.bytes(32, "random").slice();
  h.skip(h.u8("session_id length"), "session_id");
  h.skip(h.u16be("cipher_suites length"), "cipher_suites");
  h.skip(h.u8("compression_methods length"), "compression_methods");
  let serverName = "";
  if (h.remaining >= 2) {
    const extLen = h.u16be("extensions length");
    const x = new ByteReader(msg, h.pos, h.pos + extLen);
    h.skip(extLen, "extensions");
    while (x.remaining > 0) {
      const type = x.u16be("extension type");
      const data = x.bytes(x.u16be("extension length"), "extension data");
      if (type === EXT_SERVER_NAME) serverName = readServerName(data);
    }
  }
  return { random, serverName };
}

/** RFC 6066 §3: server_name_list, the first host_name entry. */
function readServerName(data: Uint8Array): string {
  const r = new ByteReader(data);
  const listEnd = r.u16be("server_name_list length") + r.pos;
  while (r.pos < listEnd) {
    const type = r.u8("name_type");
    const name = r.bytes(r.u16be("host_name length"), "host_name");
    if (type === 0) return new TextDecoder("utf-8", { fatal: false }).decode(name);
  }
  return "";
}
