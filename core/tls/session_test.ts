/**
 * TlsSession on synthetic connections: a tiny TLS "peer" seals records with
 * the key schedule and the noble backend, so every suite kind and every
 * TLS 1.3 path (HelloRetryRequest, early data, KeyUpdate) can be driven.
 * The real captures are in session_capture_test.ts.
 */
import { cbc } from "@noble/ciphers/aes.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256, sha384 } from "@noble/hashes/sha2.js";
import { assert, assertBytesEqual, assertEquals, assertMatch } from "../../tests/assert.ts";
import { type CipherSuite, suiteById } from "./cipher_suites.ts";
import type { AeadAlg, CipherBackend } from "./crypto.ts";
import {
  encodeClientHello,
  encodeHandshake,
  encodeKeyUpdate,
  encodeServerHello,
  EXT_EARLY_DATA,
  EXT_ENCRYPT_THEN_MAC,
  EXT_KEY_SHARE,
  EXT_PRE_SHARED_KEY,
  EXT_SUPPORTED_VERSIONS,
  extData,
  HELLO_RETRY_REQUEST_RANDOM,
  HS_CERTIFICATE,
  HS_CLIENT_KEY_EXCHANGE,
  HS_ENCRYPTED_EXTENSIONS,
  HS_END_OF_EARLY_DATA,
  HS_FINISHED,
  HS_NEW_SESSION_TICKET,
  HS_SERVER_HELLO_DONE,
  type RawExtension,
} from "./handshake.ts";
import { KeyStore } from "./key_store.ts";
import {
  aad12,
  aad13,
  keyBlock12,
  nextTrafficSecret13,
  nonce13,
  nonceChacha12,
  nonceGcm12,
  trafficKeys13,
} from "./key_schedule.ts";
import { nobleBackend } from "./noble_backend.ts";
import {
  CT_ALERT,
  CT_APPLICATION_DATA,
  CT_CHANGE_CIPHER_SPEC,
  CT_HANDSHAKE,
  encodeRecord,
  MAX_RECORD_LENGTH,
} from "./record.ts";
import { TlsSession, type TlsSessionOptions } from "./session.ts";
import { concatBytes } from "../bytes/concat.ts";

// ---- a deterministic byte source -------------------------------------------

function rng(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  };
}

const text = (s: string) => new TextEncoder().encode(s);

// ---- sealing peers -----------------------------------------------------------

type Step = [dir: 0 | 1, bytes: Uint8Array];

interface Sealer {
  seq: number;
  seal(type: number, content: Uint8Array): Uint8Array;
}

interface Sealer13 {
  seq: number;
  secret: Uint8Array;
  seal(type: number, content: Uint8Array, padding?: number): Uint8Array;
  update(): void;
}

function sealer13(suite: CipherSuite, secret: Uint8Array): Sealer13 {
  const s = {
    seq: 0,
    secret,
    keys: trafficKeys13(suite, secret),
    seal(type: number, content: Uint8Array, padding = 0): Uint8Array {
      const inner = concatBytes([content, Uint8Array.of(type), new Uint8Array(padding)]);
      const aad = aad13(CT_APPLICATION_DATA, 0x0303, inner.length + 16);
      const sealed = nobleBackend.aeadSeal(
        suite.aead!,
        s.keys.key,
        nonce13(s.keys.iv, s.seq++),
        aad,
        inner,
      );
      return encodeRecord(CT_APPLICATION_DATA, 0x0303, sealed);
    },
    update(): void {
      s.secret = nextTrafficSecret13(suite.prfHash, s.secret);
      s.keys = trafficKeys13(suite, s.secret);
      s.seq = 0;
    },
  };
  return s;
}

function sealer12(
  suite: CipherSuite,
  key: Uint8Array,
  iv: Uint8Array,
  macKey: Uint8Array,
  etm: boolean,
  rand: (n: number) => Uint8Array,
): Sealer {
  const s = {
    seq: 0,
    seal(type: number, content: Uint8Array): Uint8Array {
      const seq = s.seq++;
      if (suite.kind === "aead") {
        const aad = aad12(seq, type, 0x0303, content.length);
        if (suite.aead === "chacha20-poly1305") {
          const sealed = nobleBackend.aeadSeal(
            suite.aead,
            key,
            nonceChacha12(iv, seq),
            aad,
            content,
          );
          return encodeRecord(type, 0x0303, sealed);
        }
        const explicit = rand(8);
        const sealed = nobleBackend.aeadSeal(
          suite.aead as AeadAlg,
          key,
          nonceGcm12(iv, explicit),
          aad,
          content,
        );
        return encodeRecord(type, 0x0303, concatBytes([explicit, sealed]));
      }
      const h = suite.macHash === "sha1" ? sha1 : suite.macHash === "sha256" ? sha256 : sha384;
      const recIv = rand(16);
      const padTo = (data: Uint8Array) => {
        const padLen = 15 - (data.length % 16) + 16; // an extra block of padding
        return concatBytes([data, new Uint8Array(padLen + 1).fill(padLen)]);
      };
      if (!etm) {
        const mac = hmac(
          h,
          macKey,
          concatBytes([aad12(seq, type, 0x0303, content.length), content]),
        );
        const ct = cbc(key, recIv, { disablePadding: true }).encrypt(
          padTo(concatBytes([content, mac])),
        );
        return encodeRecord(type, 0x0303, concatBytes([recIv, ct]));
      }
      const ct = cbc(key, recIv, { disablePadding: true }).encrypt(padTo(content));
      const macd = concatBytes([recIv, ct]);
      const mac = hmac(h, macKey, concatBytes([aad12(seq, type, 0x0303, macd.length), macd]));
      return encodeRecord(type, 0x0303, concatBytes([macd, mac]));
    },
  };
  return s;
}

const hs = (type: number, n: number, r: (n: number) => Uint8Array) => encodeHandshake(type, r(n));

interface Built {
  steps: Step[];
  store: KeyStore;
  clientRandom: Uint8Array;
  /** The application plaintext each side sent. */
  want: [Uint8Array, Uint8Array];
}

const REQUEST = text("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
const RESPONSE = text("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");

function tls12(
  suiteId: number,
  o: { etm?: boolean; resume?: boolean; seed?: number; extra?: boolean } = {},
): Built {
  const r = rng(o.seed ?? 7);
  const suite = suiteById(suiteId)!;
  const clientRandom = r(32), serverRandom = r(32), master = r(48);
  const store = new KeyStore();
  store.add("CLIENT_RANDOM", clientRandom, master);
  const kb = keyBlock12(suite, master, clientRandom, serverRandom);
  const etm = o.etm ?? false;
  const ext: RawExtension[] = etm ? [[EXT_ENCRYPT_THEN_MAC, extData.empty]] : [];
  const cw = sealer12(suite, kb.clientWriteKey, kb.clientWriteIv, kb.clientMacKey, etm, r);
  const sw = sealer12(suite, kb.serverWriteKey, kb.serverWriteIv, kb.serverMacKey, etm, r);
  const steps: Step[] = [];
  const ch = encodeClientHello({ random: clientRandom, cipherSuites: [suiteId], extensions: ext });
  steps.push([0, encodeRecord(CT_HANDSHAKE, 0x0301, ch)]);
  const sh = encodeServerHello({ random: serverRandom, cipherSuite: suiteId, extensions: ext });
  const ccs = encodeRecord(CT_CHANGE_CIPHER_SPEC, 0x0303, Uint8Array.of(1));
  const fin = () => hs(HS_FINISHED, 12, r);
  if (o.resume) {
    // RFC 5246 §7.3 abbreviated handshake: the server's CCS comes first.
    steps.push([
      1,
      concatBytes([encodeRecord(CT_HANDSHAKE, 0x0303, sh), ccs, sw.seal(CT_HANDSHAKE, fin())]),
    ]);
    steps.push([0, concatBytes([ccs, cw.seal(CT_HANDSHAKE, fin())])]);
  } else {
    const flight = concatBytes([sh, hs(HS_CERTIFICATE, 3000, r), hs(HS_SERVER_HELLO_DONE, 0, r)]);
    // The server flight spans records, the ServerHello shares the first.
    steps.push([
      1,
      concatBytes([
        encodeRecord(CT_HANDSHAKE, 0x0303, flight.subarray(0, 1000)),
        encodeRecord(CT_HANDSHAKE, 0x0303, flight.subarray(1000)),
      ]),
    ]);
    const cke = encodeRecord(CT_HANDSHAKE, 0x0303, hs(HS_CLIENT_KEY_EXCHANGE, 66, r));
    steps.push([0, concatBytes([cke, ccs, cw.seal(CT_HANDSHAKE, fin())])]);
    steps.push([
      1,
      concatBytes([
        encodeRecord(CT_HANDSHAKE, 0x0303, hs(HS_NEW_SESSION_TICKET, 100, r)),
        ccs,
        sw.seal(CT_HANDSHAKE, fin()),
      ]),
    ]);
  }
  steps.push([0, cw.seal(CT_APPLICATION_DATA, REQUEST)]);
  steps.push([1, sw.seal(CT_APPLICATION_DATA, RESPONSE)]);
  const want: [Uint8Array, Uint8Array] = [REQUEST, RESPONSE];
  if (o.extra) {
    const big = r(MAX_RECORD_LENGTH - 2048);
    steps.push([
      1,
      concatBytes([sw.seal(CT_APPLICATION_DATA, big), sw.seal(CT_ALERT, Uint8Array.of(1, 0))]),
    ]);
    steps.push([0, cw.seal(CT_ALERT, Uint8Array.of(1, 0))]);
    want[1] = concatBytes([RESPONSE, big]);
  }
  return { steps, store, clientRandom, want };
}

interface Opts13 {
  suiteId?: number;
  hrr?: boolean;
  /** Early data sent by the client; `accept` says whether the server takes it. */
  early?: { data: Uint8Array; accept: boolean; logKey: boolean };
  keyUpdate?: boolean;
  seed?: number;
}

function tls13(o: Opts13 = {}): Built {
  const r = rng(o.seed ?? 11);
  const suite = suiteById(o.suiteId ?? 0x1302)!;
  const hlen = suite.prfHash === "sha384" ? 48 : 32;
  const clientRandom = r(32);
  const sec = {
    ce: r(hlen),
    chs: r(hlen),
    shs: r(hlen),
    c0: r(hlen),
    s0: r(hlen),
  };
  const store = new KeyStore();
  store.add("CLIENT_HANDSHAKE_TRAFFIC_SECRET", clientRandom, sec.chs);
  store.add("SERVER_HANDSHAKE_TRAFFIC_SECRET", clientRandom, sec.shs);
  store.add("CLIENT_TRAFFIC_SECRET_0", clientRandom, sec.c0);
  store.add("SERVER_TRAFFIC_SECRET_0", clientRandom, sec.s0);
  store.add("EXPORTER_SECRET", clientRandom, r(hlen));
  if (o.early?.logKey) store.add("CLIENT_EARLY_TRAFFIC_SECRET", clientRandom, sec.ce);
  // An OpenSSL-style line for the next secret is not relied upon: log a wrong one.
  store.add("CLIENT_TRAFFIC_SECRET_1", clientRandom, r(hlen));

  const steps: Step[] = [];
  const ccs = encodeRecord(CT_CHANGE_CIPHER_SPEC, 0x0303, Uint8Array.of(1));
  const chExt: RawExtension[] = [
    [EXT_SUPPORTED_VERSIONS, extData.clientVersions([0x0304, 0x0303])],
    [EXT_KEY_SHARE, extData.clientKeyShare([29])],
  ];
  if (o.early) chExt.push([EXT_EARLY_DATA, extData.empty]);
  if (o.early) chExt.push([EXT_PRE_SHARED_KEY, extData.clientPsk(1)]);
  const ch = encodeClientHello({
    random: clientRandom,
    cipherSuites: [suite.id],
    extensions: chExt,
  });
  steps.push([0, encodeRecord(CT_HANDSHAKE, 0x0301, ch)]);
  const ew = sealer13(suite, sec.ce);
  if (o.early) {
    steps.push([0, ccs]);
    const d = o.early.data;
    steps.push([
      0,
      concatBytes([
        ew.seal(CT_APPLICATION_DATA, d.subarray(0, d.length >> 1)),
        ew.seal(CT_APPLICATION_DATA, d.subarray(d.length >> 1)),
      ]),
    ]);
  }
  if (o.hrr) {
    const hrr = encodeServerHello({
      random: HELLO_RETRY_REQUEST_RANDOM,
      cipherSuite: suite.id,
      extensions: [
        [EXT_SUPPORTED_VERSIONS, extData.serverVersion(0x0304)],
        [EXT_KEY_SHARE, extData.u16(23)],
      ],
    });
    steps.push([1, concatBytes([encodeRecord(CT_HANDSHAKE, 0x0303, hrr), ccs])]);
    const ch2 = encodeClientHello({
      random: clientRandom,
      cipherSuites: [suite.id],
      extensions: [
        [EXT_SUPPORTED_VERSIONS, extData.clientVersions([0x0304])],
        [EXT_KEY_SHARE, extData.clientKeyShare([23])],
      ],
    });
    steps.push([0, concatBytes([ccs, encodeRecord(CT_HANDSHAKE, 0x0303, ch2)])]);
  }
  const shExt: RawExtension[] = [
    [EXT_SUPPORTED_VERSIONS, extData.serverVersion(0x0304)],
    [EXT_KEY_SHARE, concatBytes([extData.u16(29), extData.u16(32), new Uint8Array(32)])],
  ];
  if (o.early) shExt.push([EXT_PRE_SHARED_KEY, extData.u16(0)]);
  const sh = encodeServerHello({ random: r(32), cipherSuite: suite.id, extensions: shExt });
  const shw = sealer13(suite, sec.shs);
  const ee = encodeHandshake(
    HS_ENCRYPTED_EXTENSIONS,
    o.early?.accept ? Uint8Array.of(0, 4, 0, EXT_EARLY_DATA, 0, 0) : Uint8Array.of(0, 0),
  );
  const flight = concatBytes([
    ee,
    hs(HS_CERTIFICATE, 2500, r),
    hs(15, 260, r),
    hs(HS_FINISHED, hlen, r),
  ]);
  // The encrypted flight split across two records, the message boundary inside the Certificate.
  steps.push([
    1,
    concatBytes([
      encodeRecord(CT_HANDSHAKE, 0x0303, sh),
      ccs,
      shw.seal(CT_HANDSHAKE, flight.subarray(0, 1200)),
      shw.seal(CT_HANDSHAKE, flight.subarray(1200), 7),
    ]),
  ]);
  const sw = sealer13(suite, sec.s0);
  steps.push([1, sw.seal(CT_HANDSHAKE, hs(HS_NEW_SESSION_TICKET, 80, r))]);
  const chw = sealer13(suite, sec.chs);
  const want: [Uint8Array, Uint8Array] = [new Uint8Array(0), new Uint8Array(0)];
  const c2s: Uint8Array[] = [], s2c: Uint8Array[] = [];
  if (o.early?.accept) {
    steps.push([
      0,
      ew.seal(CT_HANDSHAKE, encodeHandshake(HS_END_OF_EARLY_DATA, new Uint8Array(0))),
    ]);
    if (o.early.logKey) c2s.push(o.early.data);
  }
  if (!o.early && !o.hrr) steps.push([0, ccs]);
  steps.push([0, chw.seal(CT_HANDSHAKE, hs(HS_FINISHED, hlen, r))]);
  const cw = sealer13(suite, sec.c0);
  steps.push([0, cw.seal(CT_APPLICATION_DATA, REQUEST)]);
  c2s.push(REQUEST);
  steps.push([1, sw.seal(CT_APPLICATION_DATA, RESPONSE)]);
  s2c.push(RESPONSE);
  if (o.keyUpdate) {
    // The client asks for an update; the server answers with its own (RFC 8446 §4.6.3).
    steps.push([0, cw.seal(CT_HANDSHAKE, encodeKeyUpdate(true))]);
    cw.update();
    const more = text("after client key update");
    steps.push([0, cw.seal(CT_APPLICATION_DATA, more)]);
    c2s.push(more);
    steps.push([
      1,
      concatBytes([
        sw.seal(CT_HANDSHAKE, encodeKeyUpdate(false)),
      ]),
    ]);
    sw.update();
    const reply = text("after server key update");
    steps.push([1, sw.seal(CT_APPLICATION_DATA, reply)]);
    s2c.push(reply);
    steps.push([1, sw.seal(CT_HANDSHAKE, encodeKeyUpdate(false))]);
    sw.update();
    steps.push([1, sw.seal(CT_APPLICATION_DATA, reply)]);
    s2c.push(reply);
  }
  steps.push([0, cw.seal(CT_ALERT, Uint8Array.of(1, 0))]);
  want[0] = concatBytes(c2s);
  want[1] = concatBytes(s2c);
  return { steps, store, clientRandom, want };
}

// ---- running -----------------------------------------------------------------

interface Run {
  session: TlsSession;
  out: [Uint8Array, Uint8Array];
  times: number[];
}

function run(
  b: Built,
  o: { opts?: TlsSessionOptions; primary?: CipherBackend; chunk?: number } = {},
): Run {
  const got: [Uint8Array[], Uint8Array[]] = [[], []];
  const times: number[] = [];
  const session = new TlsSession(
    b.store,
    { primary: o.primary ?? nobleBackend, fallback: nobleBackend },
    {
      plaintext(dir, data, sec) {
        got[dir].push(data.slice());
        times.push(sec);
      },
    },
    o.opts,
  );
  let t = 0;
  for (const [dir, bytes] of b.steps) {
    t++;
    const n = o.chunk ?? bytes.length;
    for (let i = 0; i < bytes.length; i += n) session.push(dir, bytes.subarray(i, i + n), t, 0);
  }
  return { session, out: [concatBytes(got[0]), concatBytes(got[1])], times };
}

function assertDecrypted(res: Run, b: Built, what = ""): void {
  const s = res.session;
  assertEquals([s.state, s.failure], ["decrypting", null], `${what} ${s.detail}`);
  assertBytesEqual(res.out[0], b.want[0], `${what} client`);
  assertBytesEqual(res.out[1], b.want[1], `${what} server`);
}

/** A backend that lacks everything but ChaCha20-Poly1305 lookups fail over to the fallback. */
const gcmOnly: CipherBackend = {
  ...nobleBackend,
  name: "gcm-only",
  supports: (alg) => alg === "aes-128-gcm" || alg === "aes-256-gcm",
};

// ---- TLS 1.2 -------------------------------------------------------------------

for (
  const [id, etm] of [
    [0xc02f, false],
    [0xc030, false],
    [0xcca8, false],
    [0xc013, false],
    [0xc013, true],
    [0xc027, false],
    [0xc028, true],
    [0x003d, true],
  ] as const
) {
  const suite = suiteById(id)!;
  Deno.test(`TlsSession opens TLS 1.2 ${suite.name}${etm ? " with encrypt_then_mac" : ""}`, () => {
    const b = tls12(id, { etm, extra: true });
    const res = run(b, { primary: gcmOnly });
    assertDecrypted(res, b);
    assertEquals(res.session.version, "1.2");
    assertEquals(res.session.suite, suite.name);
    // Finished ×2, application data ×3, alerts ×2.
    assertEquals(res.session.stats.decryptedRecords, 7);
    assertEquals(res.session.stats.plaintextBytes, [b.want[0].length, b.want[1].length]);
  });
}

Deno.test("TlsSession opens a resumed TLS 1.2 session (server CCS first)", () => {
  const b = tls12(0xc02f, { resume: true });
  assertDecrypted(run(b), b);
});

Deno.test("TlsSession fails CBC with the wrong MAC order (EtM on one side only)", () => {
  const b = tls12(0xc013, { etm: true });
  // The ServerHello without encrypt_then_mac: the session expects MAC-then-encrypt.
  const sh = b.steps[1][1];
  const fixed = tls12(0xc013, { etm: false });
  b.steps[1] = [1, fixed.steps[1][1]];
  assert(sh.length !== fixed.steps[1][1].length);
  const res = run(b);
  assertEquals(res.session.failure, "bad_tag");
});

Deno.test("TlsSession emits plaintext with the time of the push that completed the record", () => {
  const b = tls12(0xc02f);
  const res = run(b, { chunk: 3 });
  assertDecrypted(res, b);
  assertEquals(res.times, [5, 6]);
});

// ---- TLS 1.3 -------------------------------------------------------------------

for (const id of [0x1301, 0x1302, 0x1303]) {
  Deno.test(`TlsSession opens TLS 1.3 ${suiteById(id)!.name}`, () => {
    const b = tls13({ suiteId: id });
    const res = run(b, { primary: gcmOnly });
    assertDecrypted(res, b);
    assertEquals(res.session.version, "1.3");
    assert(res.session.secrets().some((s) => s.label === "EXPORTER_SECRET"));
    assert(!res.session.secrets().some((s) => s.label === "CLIENT_TRAFFIC_SECRET_1"));
  });
}

Deno.test("TlsSession follows KeyUpdate in both directions, deriving the secrets itself", () => {
  const b = tls13({ keyUpdate: true });
  const res = run(b);
  assertDecrypted(res, b);
  assertEquals(res.session.stats.keyUpdates, 3);
});

Deno.test("TlsSession goes on after a HelloRetryRequest to the second hellos", () => {
  const b = tls13({ hrr: true });
  const res = run(b);
  assertDecrypted(res, b);
  const byByte = run(b, { chunk: 1 });
  assertDecrypted(byByte, b, "1-byte pushes");
});

Deno.test("TlsSession skips early data sent before a HelloRetryRequest", () => {
  const b = tls13({ hrr: true, early: { data: text("0-rtt"), accept: false, logKey: true } });
  const res = run(b);
  assertDecrypted(res, b);
  assertEquals(res.session.stats.earlyDataRecords, 2);
});

Deno.test("TlsSession decrypts accepted early data with the early secret", () => {
  const data = text("POST /early HTTP/1.1\r\n\r\nzero round trips");
  const b = tls13({ early: { data, accept: true, logKey: true } });
  const res = run(b);
  assertDecrypted(res, b);
  assertEquals(res.session.stats.earlyDataRecords, 2);
  assertBytesEqual(res.out[0].subarray(0, data.length), data);
});

Deno.test("TlsSession skips accepted early data whose secret is not logged", () => {
  const b = tls13({ early: { data: text("zero round trips"), accept: true, logKey: false } });
  const res = run(b);
  assertDecrypted(res, b);
  // Two early data records and EndOfEarlyData.
  assertEquals(res.session.stats.earlyDataRecords, 3);
});

Deno.test("TlsSession drops rejected early data even when its secret is logged", () => {
  const b = tls13({ early: { data: text("zero round trips"), accept: false, logKey: true } });
  const res = run(b, { chunk: 2 });
  assertDecrypted(res, b);
  assertEquals(res.session.stats.earlyDataRecords, 2);
});

// ---- failures ------------------------------------------------------------------

Deno.test("TlsSession: garbage is not_tls, decided at the first byte", () => {
  const s = new TlsSession(new KeyStore(), { primary: nobleBackend, fallback: nobleBackend }, {
    plaintext() {
      throw new Error("no plaintext expected");
    },
  });
  s.push(0, text("GET / HTTP/1.1\r\n"), 0, 0);
  assertEquals([s.state, s.decided, s.failure], ["not_tls", true, null]);
  s.push(1, text("HTTP/1.1 200 OK\r\n"), 0, 0);
  assertEquals(s.state, "not_tls");
});

Deno.test("TlsSession: a handshake-looking first byte followed by garbage is not_tls", () => {
  const s = new TlsSession(new KeyStore(), { primary: nobleBackend, fallback: nobleBackend }, {
    plaintext() {},
  });
  s.push(0, Uint8Array.of(22), 0, 0);
  assertEquals([s.state, s.decided], ["detecting", false]);
  s.push(0, Uint8Array.of(9, 9, 9, 9), 0, 0);
  assertEquals(s.state, "not_tls");
  assertMatch(s.detail!, /version 0x0909/);
});

Deno.test("TlsSession: a server that speaks first with something else is not_tls", () => {
  const s = new TlsSession(new KeyStore(), { primary: nobleBackend, fallback: nobleBackend }, {
    plaintext() {},
  });
  s.push(1, text("220 smtp.example ESMTP\r\n"), 0, 0);
  assertEquals(s.state, "not_tls");
});

Deno.test("TlsSession: no key for the client random → no_key, decided at the ClientHello", () => {
  const b = tls13();
  const s = new TlsSession(new KeyStore(), { primary: nobleBackend, fallback: nobleBackend }, {
    plaintext() {},
  });
  s.push(0, b.steps[0][1], 0, 0);
  assertEquals([s.state, s.failure, s.decided], ["failed", "no_key", true]);
  assertBytesEqual(s.clientRandom!, b.clientRandom);
  assertEquals(s.secrets(), []);
});

Deno.test("TlsSession: TLS 1.3 keys missing one secret → no_key at the ServerHello", () => {
  const b = tls13();
  const store = new KeyStore();
  const keys = b.store.lookup(b.clientRandom)!;
  store.add("CLIENT_HANDSHAKE_TRAFFIC_SECRET", b.clientRandom, keys.clientHandshake!);
  store.add("SERVER_HANDSHAKE_TRAFFIC_SECRET", b.clientRandom, keys.serverHandshake!);
  store.add("CLIENT_TRAFFIC_SECRET_0", b.clientRandom, keys.clientTraffic0!);
  b.store = store;
  const res = run(b);
  assertEquals(res.session.failure, "no_key");
  assertMatch(res.session.detail!, /SERVER_TRAFFIC_SECRET_0/);
});

Deno.test("TlsSession: a TLS 1.2 session with only TLS 1.3 secrets → no_key", () => {
  const b = tls12(0xc02f);
  const store = new KeyStore();
  store.add("CLIENT_TRAFFIC_SECRET_0", b.clientRandom, new Uint8Array(32));
  b.store = store;
  const res = run(b);
  assertEquals([res.session.state, res.session.failure], ["failed", "no_key"]);
});

Deno.test("TlsSession: unknown suite → unsupported_suite; TLS 1.1 → unsupported_version", () => {
  const r = rng(3);
  const random = r(32);
  for (
    const [suite, version, failure] of [
      [0x00ff, 0x0303, "unsupported_suite"],
      [0x1301, 0x0303, "unsupported_suite"], // a TLS 1.3 suite in a TLS 1.2 ServerHello
      [0xc02f, 0x0302, "unsupported_version"],
    ] as const
  ) {
    const store = new KeyStore();
    store.add("CLIENT_RANDOM", random, r(48));
    const s = new TlsSession(store, { primary: nobleBackend, fallback: nobleBackend }, {
      plaintext() {},
    });
    const ch = encodeClientHello({ random, cipherSuites: [suite] });
    s.push(0, encodeRecord(CT_HANDSHAKE, 0x0301, ch), 0, 0);
    assertEquals(s.state, "handshake");
    const sh = encodeServerHello({ random: r(32), cipherSuite: suite });
    sh[4] = version >> 8;
    sh[5] = version & 0xff;
    s.push(1, encodeRecord(CT_HANDSHAKE, 0x0303, sh), 0, 0);
    assertEquals([s.state, s.failure], ["failed", failure], s.detail ?? "");
  }
});

Deno.test("TlsSession: a backend-less suite → unsupported_suite", () => {
  const none: CipherBackend = { ...nobleBackend, supports: () => false };
  const b = tls12(0xc02f);
  const s = new TlsSession(b.store, { primary: none, fallback: none }, { plaintext() {} });
  for (const [dir, bytes] of b.steps) s.push(dir, bytes, 0, 0);
  assertEquals(s.failure, "unsupported_suite");
});

Deno.test("TlsSession: the wrong master secret → bad_tag at the first Finished", () => {
  const b = tls12(0xc02f);
  const store = new KeyStore();
  store.add("CLIENT_RANDOM", b.clientRandom, new Uint8Array(48).fill(1));
  b.store = store;
  const res = run(b);
  assertEquals([res.session.state, res.session.failure], ["failed", "bad_tag"]);
  assertEquals(res.out[0].length + res.out[1].length, 0);
  // No key material in the detail.
  assert(!/[0-9a-f]{16}/.test(res.session.detail!), res.session.detail!);
});

Deno.test("TlsSession: a flipped tag byte → bad_tag, nothing after it emitted", () => {
  for (const b of [tls12(0xc030), tls13()]) {
    // The client's request: its first application data record after the handshake.
    const req = b.steps.findIndex(([dir, bytes], k) =>
      k > 1 && dir === 0 && bytes[0] === CT_APPLICATION_DATA && bytes.length > REQUEST.length &&
      bytes.length < REQUEST.length + 5 + 8 + 16 + 2
    );
    assert(req > 0);
    const bytes = b.steps[req][1].slice();
    bytes[bytes.length - 1] ^= 0x80;
    b.steps[req] = [0, bytes];
    const res = run(b);
    assertEquals([res.session.state, res.session.failure], ["failed", "bad_tag"]);
    assertEquals(res.out[0].length, 0);
  }
});

Deno.test("TlsSession: a record claiming length 2^14 + 2049 → malformed_record", () => {
  const b = tls13();
  const cut = b.steps.findIndex(([dir], k) => k > 2 && dir === 0);
  b.steps.splice(cut, 0, [0, Uint8Array.of(23, 3, 3, 0x48, 0x01, 0, 0, 0)]);
  const res = run(b);
  assertEquals([res.session.state, res.session.failure], ["failed", "malformed_record"]);
  assertMatch(res.session.detail!, /length 18433 > 18432/);
});

Deno.test("TlsSession: a truncated record at the end is held, state unchanged", () => {
  const b = tls12(0xc02f);
  const lastReq = b.steps[b.steps.length - 2];
  b.steps[b.steps.length - 2] = [lastReq[0], lastReq[1].subarray(0, lastReq[1].length - 3)];
  const res = run(b);
  assertEquals([res.session.state, res.session.failure], ["decrypting", null]);
  assertEquals(res.out[0].length, 0);
  assertBytesEqual(res.out[1], b.want[1]);
});

Deno.test("TlsSession: a ClientHello in 1-byte pushes, the whole flow in 5-byte pushes", () => {
  const b = tls13({ keyUpdate: true });
  const s = run(b, { chunk: 1 });
  assertDecrypted(s, b);
  assertDecrypted(run(b, { chunk: 5 }), b);
});

Deno.test("TlsSession: client records waiting for a ServerHello are bounded → too_much_pending", () => {
  const b = tls13({ early: { data: new Uint8Array(12000), accept: true, logKey: true } });
  // Deliver the client's whole side before any server byte.
  const client = b.steps.filter(([d]) => d === 0);
  const server = b.steps.filter(([d]) => d === 1);
  b.steps = [...client, ...server];
  const res = run(b, { opts: { maxPendingBytes: 4096 } });
  assertEquals([res.session.state, res.session.failure], ["failed", "too_much_pending"]);
  assertEquals(res.session.pendingRecordBytes, 0);
  // With room, the same order works: records wait, then drain.
  assertDecrypted(run(b), b);
});

Deno.test("TlsSession: the server side delivered first waits for the ClientHello", () => {
  for (const b of [tls12(0xc02f), tls13(), tls13({ hrr: true })]) {
    b.steps = [...b.steps.filter(([d]) => d === 1), ...b.steps.filter(([d]) => d === 0)];
    assertDecrypted(run(b), b);
  }
});

Deno.test("TlsSession: gap() before a ClientHello is not_tls, after it fails with gap", () => {
  const mk = () =>
    new TlsSession(tls13().store, { primary: nobleBackend, fallback: nobleBackend }, {
      plaintext() {},
    });
  const a = mk();
  a.push(0, Uint8Array.of(22, 3), 0, 0);
  a.gap(0);
  assertEquals(a.state, "not_tls");
  const b = tls13();
  const s = new TlsSession(b.store, { primary: nobleBackend, fallback: nobleBackend }, {
    plaintext() {},
  });
  for (const [dir, bytes] of b.steps.slice(0, 3)) s.push(dir, bytes, 0, 0);
  assertEquals(s.state, "decrypting");
  s.gap(1);
  assertEquals([s.state, s.failure], ["failed", "gap"]);
  for (const [dir, bytes] of b.steps.slice(3)) s.push(dir, bytes, 0, 0);
  assertEquals(s.stats.plaintextBytes, [0, 0]);
});
