/**
 * TlsSession on the real captures of tests/fixtures/captures: every TCP
 * payload event replayed in capture order (through the capture reader, the
 * link decoder and the TCP reassembler), plaintext compared byte for byte
 * with what the python server read and wrote, and with tshark's decryption.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { assert, assertBytesEqual, assertEquals } from "../../tests/assert.ts";
import { flowKey, hasTool, tlsPlaintext } from "../../tests/lib/oracle.ts";
import { toHex } from "../bytes/hex.ts";
import { createCaptureReader } from "../format/capture.ts";
import { type FlowKey, REC_DATA, REC_FLOW_OPEN } from "../format/ctap_record.ts";
import { CaptureToRecords } from "../stitch/capture_records.ts";
import { nativeBackend } from "../../plugins/crypto/native.ts";
import type { CipherBackend } from "./crypto.ts";
import { KeyStore } from "./key_store.ts";
import { nobleBackend } from "./noble_backend.ts";
import { TlsSession } from "./session.ts";
import { concatBytes } from "../bytes/concat.ts";
import { b64 as b64ToBytes, type TranscriptEntry } from "../../tests/lib/transcript.ts";

const CAPTURES = new URL("../../tests/fixtures/captures/", import.meta.url);

export interface ReplayedFlow {
  /** The reassembler's flow id. */
  id: number;
  key: string;
  clientPort: number;
  serverPort: number;
  session: TlsSession;
  out: [Uint8Array[], Uint8Array[]];
}

function ipText(ip: Uint8Array): string {
  if (ip.length === 4) return ip.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip[i] << 8) | ip[i + 1]).toString(16));
  const s = groups.join(":");
  return s === "0:0:0:0:0:0:0:1" ? "::1" : s;
}

/** Replays a capture's TCP payloads, in capture order, into one TlsSession per flow. */
export function replayCapture(
  pcap: Uint8Array,
  keys: KeyStore,
  primary: CipherBackend,
  mutate?: (flow: number, dir: 0 | 1, offset: number, payload: Uint8Array) => Uint8Array,
): ReplayedFlow[] {
  const flows = new Map<FlowKey, ReplayedFlow>();
  const toRecords = new CaptureToRecords({
    onRecord(r) {
      if (r.type === REC_FLOW_OPEN) {
        const f: ReplayedFlow = {
          id: r.flow as number,
          key: flowKey(ipText(r.clientIp), r.clientPort, ipText(r.serverIp), r.serverPort),
          clientPort: r.clientPort,
          serverPort: r.serverPort,
          out: [[], []],
          session: null as unknown as TlsSession,
        };
        f.session = new TlsSession(keys, { primary, fallback: nobleBackend }, {
          plaintext(dir, data) {
            f.out[dir].push(data.slice());
          },
        });
        flows.set(r.flow, f);
      } else if (r.type === REC_DATA) {
        const f = flows.get(r.flow)!;
        const payload = mutate ? mutate(f.id, r.dir, r.offset, r.payload) : r.payload;
        f.session.push(r.dir, payload, r.sec, r.nsec);
      }
    },
    onProblem(_where, p) {
      throw new Error(p.detail);
    },
  });
  let index = 0;
  const reader = createCaptureReader((p) => toRecords.packet(p, "capture", ++index), (p) => {
    throw new Error(p.detail);
  });
  reader.push(pcap);
  reader.finish();
  toRecords.finish();
  return [...flows.values()];
}

function checkAgainstTranscript(name: string, flows: ReplayedFlow[]): number {
  const transcript: TranscriptEntry[] = JSON.parse(
    Deno.readTextFileSync(new URL(`${name}.transcript.json`, CAPTURES)),
  );
  let tls = 0;
  for (const t of transcript) {
    if (t.server_port !== 8443) continue;
    tls++;
    const f = flows.find((f) => f.clientPort === t.client_port && f.serverPort === 8443);
    assert(f, `${name}: flow from port ${t.client_port}`);
    const s = f.session;
    assertEquals(
      [s.state, s.failure],
      ["decrypting", null],
      `${name} ${f.key}: ${s.detail}`,
    );
    const sides: [0 | 1, number, string, string | null][] = [
      [0, t.client_to_server_len, t.client_to_server_sha256, t.client_to_server_b64],
      [1, t.server_to_client_len, t.server_to_client_sha256, t.server_to_client_b64],
    ];
    for (const [dir, len, sha, b64] of sides) {
      const got = concatBytes(f.out[dir]);
      const what = `${name} ${f.key} dir ${dir}`;
      assertEquals(got.length, len, `${what} length`);
      assertEquals(s.stats.plaintextBytes[dir], len, `${what} stats`);
      if (b64 !== null) assertBytesEqual(got, b64ToBytes(b64), what);
      assertEquals(toHex(sha256(got)), sha, `${what} sha256`);
    }
  }
  return tls;
}

function load(name: string): { pcap: Uint8Array; keys: KeyStore } {
  const keys = new KeyStore();
  keys.addText(Deno.readTextFileSync(new URL(`${name}.keys`, CAPTURES)));
  assertEquals(keys.stats.malformed, 0);
  return { pcap: Deno.readFileSync(new URL(`${name}.pcap`, CAPTURES)), keys };
}

const NATIVE = nativeBackend();
const BACKENDS: [string, CipherBackend][] = [["noble", nobleBackend], ["native", NATIVE]];

for (
  const [name, wantTls, version] of [
    ["tls12_v4", 3, "1.2"],
    ["tls13_v6", 3, "1.3"],
    ["concurrent_25", 13, null],
    ["retrans", 1, "1.3"],
  ] as const
) {
  for (const [bname, backend] of BACKENDS) {
    Deno.test(`TlsSession decrypts ${name}.pcap exactly as the server saw it (${bname})`, () => {
      const { pcap, keys } = load(name);
      const flows = replayCapture(pcap, keys, backend);
      assertEquals(checkAgainstTranscript(name, flows), wantTls);
      for (const f of flows) {
        if (f.serverPort === 8080) {
          assertEquals(f.session.state, "not_tls", f.key);
          assert(f.session.decided);
        } else {
          assert(f.session.decided);
          if (version !== null) assertEquals(f.session.version, version);
          assertEquals(f.session.clientRandom!.length, 32);
          assert(f.session.secrets().length > 0);
        }
      }
    });
  }
}

Deno.test({
  name: "TlsSession agrees with tshark's decryption of every TLS capture",
  ignore: !hasTool("tshark"),
  async fn() {
    for (const name of ["tls12_v4", "tls13_v6", "concurrent_25", "retrans"]) {
      const { pcap, keys } = load(name);
      const flows = replayCapture(pcap, keys, nobleBackend);
      const oracle = await tlsPlaintext(
        new URL(`${name}.pcap`, CAPTURES).pathname,
        new URL(`${name}.keys`, CAPTURES).pathname,
      );
      let n = 0;
      for (const [key, want] of oracle) {
        const f = flows.find((f) => f.key === key);
        assert(f, `${name}: our flows lack ${key}`);
        assertBytesEqual(concatBytes(f.out[0]), want.client, `${name} ${key} client`);
        assertBytesEqual(concatBytes(f.out[1]), want.server, `${name} ${key} server`);
        n++;
      }
      assert(n > 0, name);
    }
  },
});

interface Event {
  dir: 0 | 1;
  bytes: Uint8Array;
  sec: number;
  nsec: number;
}

/** The in-order data events of the first flow to port `port` (copies). */
function flowEvents(pcap: Uint8Array, port: number, nth = 0): Event[] {
  const byFlow = new Map<number, Event[]>();
  const flows = replayCapture(pcap, new KeyStore(), nobleBackend, (flow, dir, _o, payload) => {
    let list = byFlow.get(flow);
    if (!list) byFlow.set(flow, list = []);
    list.push({ dir, bytes: payload.slice(), sec: 0, nsec: 0 });
    return payload;
  });
  const ids = flows.filter((f) => f.serverPort === port).map((f) => f.id).sort((a, b) => a - b);
  return byFlow.get(ids[nth])!;
}

function runEvents(events: Event[], keys: KeyStore, primary: CipherBackend = nobleBackend) {
  const out: [Uint8Array[], Uint8Array[]] = [[], []];
  const session = new TlsSession(keys, { primary, fallback: nobleBackend }, {
    plaintext(dir, data) {
      out[dir].push(data.slice());
    },
  });
  for (const e of events) session.push(e.dir, e.bytes, e.sec, e.nsec);
  return { session, out: [concatBytes(out[0]), concatBytes(out[1])] };
}

Deno.test("TlsSession on a real TLS 1.2 and 1.3 flow: wrong key → bad_tag", () => {
  for (const name of ["tls12_v4", "tls13_v6"]) {
    const { pcap, keys } = load(name);
    const events = flowEvents(pcap, 8443);
    assertEquals(runEvents(events, keys).session.state, "decrypting");
    // The same key log with every secret's last byte changed.
    const text = Deno.readTextFileSync(new URL(`${name}.keys`, CAPTURES));
    const wrong = new KeyStore();
    wrong.addText(
      text.split("\n").map((l) => l.length > 0 ? l.slice(0, -1) + (l.endsWith("0") ? "1" : "0") : l)
        .join("\n"),
    );
    const res = runEvents(events, wrong);
    assertEquals([res.session.state, res.session.failure], ["failed", "bad_tag"], name);
    assertEquals(res.out[0].length + res.out[1].length, 0);
  }
});

Deno.test("TlsSession on a real flow: ClientHello in 1-byte pushes, everything in odd pieces", () => {
  const { pcap, keys } = load("tls13_v6");
  const events = flowEvents(pcap, 8443, 1);
  const whole = runEvents(events, keys);
  assertEquals(whole.session.state, "decrypting");
  const pieces: Event[] = [];
  for (const [i, e] of events.entries()) {
    const n = i === 0 ? 1 : 7 + i;
    for (let k = 0; k < e.bytes.length; k += n) {
      pieces.push({ ...e, bytes: e.bytes.subarray(k, k + n) });
    }
  }
  const res = runEvents(pieces, keys);
  assertEquals(res.session.state, "decrypting");
  assertBytesEqual(res.out[0], whole.out[0]);
  assertBytesEqual(res.out[1], whole.out[1]);
});

Deno.test("TlsSession survives 300 random mutations of real TLS streams", () => {
  let x = 0x9e3779b9;
  const rand = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const states = new Map<string, number>();
  const cases: [Event[], KeyStore][] = [];
  for (const name of ["tls12_v4", "tls13_v6"]) {
    const { pcap, keys } = load(name);
    cases.push([flowEvents(pcap, 8443), keys]);
  }
  for (let i = 0; i < 300; i++) {
    const [events, keys] = cases[i % cases.length];
    const mutated = events.map((e) => ({ ...e, bytes: e.bytes.slice() }));
    const flips = 1 + rand(4);
    for (let k = 0; k < flips; k++) {
      const e = mutated[rand(Math.min(mutated.length, k === 0 ? 6 : mutated.length))];
      if (e.bytes.length === 0) continue;
      // Mostly near the start of an event, where the headers and hellos are.
      const at = rand(2) === 0 ? rand(Math.min(e.bytes.length, 64)) : rand(e.bytes.length);
      e.bytes[at] ^= 1 + rand(255);
    }
    if (rand(10) === 0) mutated.length = rand(mutated.length);
    const { session } = runEvents(mutated, keys);
    const key = `${session.state}/${session.failure}`;
    states.set(key, (states.get(key) ?? 0) + 1);
    assert(["detecting", "handshake", "decrypting", "not_tls", "failed"].includes(session.state));
    assertEquals(session.state === "failed", session.failure !== null, key);
    assertEquals(session.pendingRecordBytes <= 1 << 20, true);
  }
  assert((states.get("failed/bad_tag") ?? 0) > 50, JSON.stringify([...states]));
});
