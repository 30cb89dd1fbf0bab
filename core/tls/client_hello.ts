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
 * more", "not TLS", or the hello. The framing and parsing are record.ts and
 * handshake.ts, as the decryptor uses them.
 */
import { ByteReader, DecodeError } from "../bytes/cursor.ts";
import { decodeClientHello, HandshakeReassembler, HS_CLIENT_HELLO } from "./handshake.ts";
import { CT_HANDSHAKE, RecordFramer } from "./record.ts";

export interface ClientHelloInfo {
  random: Uint8Array;
  serverName: string;
}

/** A ClientHello larger than this is not waited for. */
export const MAX_CLIENT_HELLO = 64 * 1024;
/** TLSPlaintext.length bound (RFC 8446 §5.1). */
const MAX_PLAINTEXT = 16384;

/** `"more"` when the bytes end before the hello does, null when this is not a TLS ClientHello. */
export function sniffClientHello(stream: Uint8Array): ClientHelloInfo | "more" | null {
  let result: ClientHelloInfo | null | undefined;
  const done = (r: ClientHelloInfo | null) => {
    result = r;
    framer.stop();
    return false;
  };
  const hs = new HandshakeReassembler((t) => t === HS_CLIENT_HELLO, MAX_CLIENT_HELLO);
  const framer = new RecordFramer((rec) => {
    const n = rec.fragment.length;
    if (rec.type !== CT_HANDSHAKE || n === 0 || n > MAX_PLAINTEXT) return void done(null);
    try {
      hs.push(rec.fragment, (m) => {
        if (m.type !== HS_CLIENT_HELLO || m.body === null) return done(null);
        const ch = decodeClientHello(m.body);
        return done({ random: ch.random, serverName: ch.serverName });
      });
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      done(null);
    }
  });
  framer.push(stream);
  if (result !== undefined) return result;
  if (framer.error !== null) return null;
  return stream.length >= MAX_CLIENT_HELLO ? null : "more";
}

/** Parses a handshake message that holds a ClientHello (type, u24 length, body). */
export function parseClientHello(msg: Uint8Array): ClientHelloInfo {
  const r = new ByteReader(msg);
  const type = r.u8("handshake type");
  if (type !== HS_CLIENT_HELLO) {
    throw new DecodeError(`handshake type ${type} is not ClientHello (1)`, 0);
  }
  const len = (r.u8("handshake length") << 16) | r.u16be("handshake length");
  const ch = decodeClientHello(r.bytes(len, "ClientHello body"));
  return { random: ch.random, serverName: ch.serverName };
}
