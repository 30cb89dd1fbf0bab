import { assert, assertBytesEqual, assertEquals, assertThrows } from "../../tests/assert.ts";
import { hasTool, tcpStreams, tsharkFields } from "../../tests/lib/oracle.ts";
import { DecodeError } from "../bytes/cursor.ts";
import { toHex } from "../bytes/hex.ts";
import {
  type ClientHello,
  decodeClientHello,
  decodeEncryptedExtensions,
  decodeKeyUpdate,
  decodeServerHello,
  encodeClientHello,
  encodeHandshake,
  encodeKeyUpdate,
  encodeServerHello,
  EXT_EARLY_DATA,
  EXT_ENCRYPT_THEN_MAC,
  EXT_EXTENDED_MASTER_SECRET,
  EXT_KEY_SHARE,
  EXT_PRE_SHARED_KEY,
  EXT_SERVER_NAME,
  EXT_SUPPORTED_VERSIONS,
  extData,
  HandshakeReassembler,
  HELLO_RETRY_REQUEST_RANDOM,
  HS_CERTIFICATE,
  HS_CLIENT_HELLO,
  HS_FINISHED,
  HS_SERVER_HELLO,
  type ServerHello,
} from "./handshake.ts";
import { CT_HANDSHAKE, RecordFramer } from "./record.ts";

const RANDOM = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

function body(msg: Uint8Array): Uint8Array {
  return msg.subarray(4);
}

Deno.test("decodeClientHello() reads every extension the decryptor uses", () => {
  const msg = encodeClientHello({
    random: RANDOM,
    sessionId: new Uint8Array(32).fill(9),
    cipherSuites: [0x1301, 0x1302, 0xc02f],
    extensions: [
      [EXT_SERVER_NAME, extData.serverName("example.com")],
      [EXT_SUPPORTED_VERSIONS, extData.clientVersions([0x0304, 0x0303])],
      [EXT_KEY_SHARE, extData.clientKeyShare([29, 23])],
      [EXT_EARLY_DATA, extData.empty],
      [EXT_ENCRYPT_THEN_MAC, extData.empty],
      [EXT_EXTENDED_MASTER_SECRET, extData.empty],
      [EXT_PRE_SHARED_KEY, extData.clientPsk(2)],
    ],
  });
  assertEquals(msg[0], HS_CLIENT_HELLO);
  const ch = decodeClientHello(body(msg));
  assertEquals(
    ch,
    {
      legacyVersion: 0x0303,
      random: RANDOM,
      sessionId: new Uint8Array(32).fill(9),
      cipherSuites: [0x1301, 0x1302, 0xc02f],
      extensions: [0, 43, 51, 42, 22, 23, 41],
      serverName: "example.com",
      supportedVersions: [0x0304, 0x0303],
      keyShareGroups: [29, 23],
      pskIdentities: 2,
      earlyData: true,
      encryptThenMac: true,
      extendedMasterSecret: true,
    } satisfies ClientHello,
  );
  // The random is a copy.
  assert(ch.random.buffer !== msg.buffer);
});

Deno.test("decodeClientHello() accepts a hello without extensions (RFC 5246 §7.4.1.2)", () => {
  const ch = decodeClientHello(body(encodeClientHello({ random: RANDOM, cipherSuites: [0x002f] })));
  assertEquals([ch.extensions, ch.serverName, ch.pskIdentities], [[], "", 0]);
});

Deno.test("decodeClientHello() throws DecodeError at every truncation, never anything else", () => {
  const msg = body(encodeClientHello({
    random: RANDOM,
    cipherSuites: [0x1301],
    extensions: [
      [EXT_SERVER_NAME, extData.serverName("a.example")],
      [EXT_KEY_SHARE, extData.clientKeyShare([29])],
      [EXT_PRE_SHARED_KEY, extData.clientPsk(1)],
    ],
  }));
  // legacy_version, random, empty session id, one suite, one compression method.
  const beforeExtensions = 2 + 32 + 1 + 2 + 2 + 1 + 1;
  for (let n = 0; n < msg.length; n++) {
    if (n === beforeExtensions) {
      assertEquals(decodeClientHello(msg.slice(0, n)).extensions, []);
      continue;
    }
    assertThrows(() => decodeClientHello(msg.slice(0, n)), DecodeError);
  }
});

Deno.test("decodeClientHello() rejects a duplicated extension and an odd cipher_suites length", () => {
  const dup = encodeClientHello({
    random: RANDOM,
    cipherSuites: [0x1301],
    extensions: [[EXT_EARLY_DATA, extData.empty], [EXT_EARLY_DATA, extData.empty]],
  });
  assertThrows(() => decodeClientHello(body(dup)), DecodeError, "extension 42 appears twice");
  const odd = body(encodeClientHello({ random: RANDOM, cipherSuites: [0x1301] })).slice();
  odd[2 + 32 + 1 + 1] = 3;
  assertThrows(() => decodeClientHello(odd), DecodeError, "cipher_suites length 3 is odd");
});

Deno.test("decodeServerHello() reads a TLS 1.3 ServerHello", () => {
  const sh = decodeServerHello(body(encodeServerHello({
    random: RANDOM,
    sessionId: Uint8Array.of(1, 2, 3),
    cipherSuite: 0x1302,
    extensions: [
      [EXT_SUPPORTED_VERSIONS, extData.serverVersion(0x0304)],
      [EXT_KEY_SHARE, extData.u16(29)],
      [EXT_PRE_SHARED_KEY, extData.u16(0)],
    ],
  })));
  assertEquals(
    sh,
    {
      legacyVersion: 0x0303,
      random: RANDOM,
      sessionId: Uint8Array.of(1, 2, 3),
      cipherSuite: 0x1302,
      compressionMethod: 0,
      extensions: [43, 51, 41],
      supportedVersion: 0x0304,
      version: "1.3",
      isHelloRetryRequest: false,
      selectedIdentity: 0,
      keyShareGroup: 29,
      encryptThenMac: false,
      extendedMasterSecret: false,
    } satisfies ServerHello,
  );
});

Deno.test("decodeServerHello() reads TLS 1.2 and recognises a HelloRetryRequest", () => {
  const sh12 = decodeServerHello(body(encodeServerHello({
    random: RANDOM,
    cipherSuite: 0xc013,
    extensions: [[EXT_ENCRYPT_THEN_MAC, extData.empty], [
      EXT_EXTENDED_MASTER_SECRET,
      extData.empty,
    ]],
  })));
  assertEquals(
    [sh12.version, sh12.supportedVersion, sh12.encryptThenMac, sh12.extendedMasterSecret],
    ["1.2", null, true, true],
  );
  const hrr = decodeServerHello(body(encodeServerHello({
    random: HELLO_RETRY_REQUEST_RANDOM,
    cipherSuite: 0x1301,
    extensions: [
      [EXT_SUPPORTED_VERSIONS, extData.serverVersion(0x0304)],
      [EXT_KEY_SHARE, extData.u16(23)],
    ],
  })));
  assertEquals([hrr.isHelloRetryRequest, hrr.version, hrr.keyShareGroup], [true, "1.3", 23]);
  const old = body(encodeServerHello({ random: RANDOM, cipherSuite: 0x002f })).slice();
  old[1] = 1;
  assertEquals(decodeServerHello(old).version, "1.0");
  old[1] = 9;
  assertEquals(decodeServerHello(old).version, null);
});

Deno.test("decodeKeyUpdate() reads request_update and rejects other values", () => {
  assertEquals(decodeKeyUpdate(body(encodeKeyUpdate(true))), { requestUpdate: true });
  assertEquals(decodeKeyUpdate(body(encodeKeyUpdate(false))), { requestUpdate: false });
  assertThrows(() => decodeKeyUpdate(Uint8Array.of(2)), DecodeError, "request_update 2");
  assertThrows(() => decodeKeyUpdate(new Uint8Array(0)), DecodeError);
});

Deno.test("decodeEncryptedExtensions() sees early_data", () => {
  assertEquals(decodeEncryptedExtensions(Uint8Array.of(0, 4, 0, 42, 0, 0)).earlyData, true);
  assertEquals(decodeEncryptedExtensions(Uint8Array.of(0, 0)).earlyData, false);
  assertThrows(() => decodeEncryptedExtensions(Uint8Array.of(0, 4, 0, 42)), DecodeError);
});

Deno.test("HandshakeReassembler joins fragmented and coalesced messages in any split", () => {
  const ch = encodeClientHello({ random: RANDOM, cipherSuites: [0x1301] });
  const cert = encodeHandshake(HS_CERTIFICATE, new Uint8Array(300).fill(7));
  const fin = encodeHandshake(HS_FINISHED, new Uint8Array(12).fill(1));
  const all = new Uint8Array(ch.length + cert.length + fin.length);
  all.set(ch);
  all.set(cert, ch.length);
  all.set(fin, ch.length + cert.length);
  for (let a = 0; a <= all.length; a += 3) {
    for (const b of [a, a + 1, a + 4, a + 100, all.length]) {
      if (b > all.length) continue;
      const got: [number, number, string | null][] = [];
      const r = new HandshakeReassembler((t) => t === HS_CLIENT_HELLO || t === HS_FINISHED);
      for (const part of [all.subarray(0, a), all.subarray(a, b), all.subarray(b)]) {
        r.push(part, (m) => {
          got.push([m.type, m.length, m.body ? toHex(m.body) : null]);
        });
      }
      assertEquals(got, [
        [1, ch.length - 4, toHex(ch.subarray(4))],
        [11, 300, null],
        [20, 12, toHex(fin.subarray(4))],
      ], `${a}/${b}`);
      assert(!r.midMessage);
    }
  }
});

Deno.test("HandshakeReassembler bounds kept bodies and passes over others unbuffered", () => {
  const r = new HandshakeReassembler((t) => t === HS_CLIENT_HELLO, 100);
  const big = encodeHandshake(HS_CERTIFICATE, new Uint8Array(5000));
  let n = 0;
  r.push(big.subarray(0, 10), () => void n++);
  assert(r.midMessage);
  r.push(big.subarray(10), () => void n++);
  assertEquals(n, 1);
  const hello = encodeHandshake(HS_CLIENT_HELLO, new Uint8Array(101));
  assertThrows(() => r.push(hello.subarray(0, 6), () => {}), DecodeError, "length 101 > 100");
  assert(!r.midMessage);
});

Deno.test("HandshakeReassembler stops when the callback returns false", () => {
  const fin = encodeHandshake(HS_FINISHED, new Uint8Array(4));
  const two = new Uint8Array(16);
  two.set(fin);
  two.set(fin, 8);
  let n = 0;
  new HandshakeReassembler(() => true).push(two, () => (n++, false));
  assertEquals(n, 1);
});

/** The ClientHello and ServerHello at the start of a stream's two sides. */
function hellos(client: Uint8Array, server: Uint8Array): { ch?: ClientHello; sh?: ServerHello } {
  const out: { ch?: ClientHello; sh?: ServerHello } = {};
  for (const [bytes, type] of [[client, HS_CLIENT_HELLO], [server, HS_SERVER_HELLO]] as const) {
    const hs = new HandshakeReassembler((t) => t === type);
    const framer = new RecordFramer((rec) => {
      if (rec.type !== CT_HANDSHAKE) return framer.stop();
      hs.push(rec.fragment, (m) => {
        if (m.type === HS_CLIENT_HELLO && m.body) out.ch = decodeClientHello(m.body);
        if (m.type === HS_SERVER_HELLO && m.body) out.sh = decodeServerHello(m.body);
        framer.stop();
        return false;
      });
    });
    framer.push(bytes);
  }
  return out;
}

Deno.test({
  name: "decodeClientHello()/decodeServerHello() agree with tshark on the captured hellos",
  ignore: !hasTool("tshark"),
  async fn() {
    const dir = new URL("../../tests/fixtures/captures/", import.meta.url).pathname;
    let checked = 0;
    for (const name of ["tls12_v4", "tls13_v6", "concurrent_25", "retrans"]) {
      const pcap = dir + name + ".pcap";
      const rows = await tsharkFields(pcap, [
        "tls.handshake.type",
        "tls.handshake.random",
        "tls.handshake.ciphersuite",
        "tls.handshake.extension.type",
        "tls.handshake.extensions.supported_version",
        "tls.handshake.extensions_key_share_group",
        "tls.handshake.extensions.psk.identity.identity_length",
        "tls.handshake.extensions.psk.identity.selected",
      ], "tls.handshake.type == 1 || tls.handshake.type == 2");
      const want = new Map(rows.map((r) => [r[1], r]));
      const nums = (s: string) => s === "" ? [] : s.split(",").map((v) => Number(v));
      for (const { client, server } of (await tcpStreams(pcap)).values()) {
        const { ch, sh } = hellos(client, server);
        if (!ch) continue;
        const c = want.get(toHex(ch.random));
        assert(
          c && c[0].split(",")[0] === "1",
          `${name}: tshark lacks ClientHello ${toHex(ch.random)}`,
        );
        assertEquals(ch.cipherSuites, nums(c[2]));
        assertEquals(ch.extensions, nums(c[3]));
        assertEquals(ch.supportedVersions, nums(c[4]));
        assertEquals(ch.keyShareGroups, nums(c[5]));
        assertEquals(ch.pskIdentities, nums(c[6]).length);
        assert(sh, `${name}: no ServerHello`);
        const s = want.get(toHex(sh.random));
        assert(s && s[0].split(",")[0] === "2", `${name}: tshark lacks ServerHello`);
        assertEquals([sh.cipherSuite], nums(s[2]));
        assertEquals(sh.extensions, nums(s[3]));
        assertEquals(sh.supportedVersion === null ? [] : [sh.supportedVersion], nums(s[4]));
        assertEquals(sh.selectedIdentity === null ? [] : [sh.selectedIdentity], nums(s[7]));
        assertEquals(sh.version, sh.supportedVersion === 0x0304 ? "1.3" : "1.2");
        checked++;
      }
    }
    assertEquals(checked, 3 + 3 + 13 + 1);
  },
});

Deno.test("encodeHandshake() writes the u24 length", () => {
  assertBytesEqual(
    encodeHandshake(20, new Uint8Array(0x10203)).subarray(0, 4),
    Uint8Array.of(20, 1, 2, 3),
  );
});
