/**
 * The stitcher's decrypt mode on flows that are not TLS: a session is made
 * only for flows that can be TLS, and every other flow still comes out whole,
 * in order, counted `not_tls`. Records are built by hand (as the CTAP decoder
 * hands them over); the real captures' path is in tests/tls_e2e_test.ts.
 */
import { assertEquals } from "../../tests/assert.ts";
import {
  CLOSE_FIN,
  type CtapRecord,
  REC_DATA,
  REC_FLOW_CLOSE,
  REC_FLOW_OPEN,
} from "../format/ctap_record.ts";
import { RunReport } from "../run/report.ts";
import { KeyStore } from "../tls/key_store.ts";
import { nobleBackend } from "../tls/noble_backend.ts";
import { PacketBatch } from "./packet_batch.ts";
import { Stitcher } from "./stitcher.ts";
import { TcpSynthesizer } from "./synth.ts";

const ASCII = new TextEncoder();

function run(records: CtapRecord[]): { report: RunReport; payloads: string[] } {
  const report = new RunReport();
  const out = { batch: new PacketBatch() };
  const stitcher = new Stitcher(new TcpSynthesizer(), out, report, {
    tls: {
      mode: "decrypt",
      keys: new KeyStore(),
      backends: { primary: nobleBackend, fallback: nobleBackend },
      undecryptable: "pass",
      portMap: new Map(),
      maxPendingBytes: 1 << 20,
    },
  });
  for (const r of records) stitcher.record(r, "o");
  stitcher.finish();
  // Ethernet (14 bytes), then IPv4 and TCP with their header lengths.
  const payloads = out.batch.packets.map((p) => {
    const f = p.data.subarray(p.offset, p.offset + p.length);
    const tcp = 14 + (f[14] & 0x0f) * 4;
    return new TextDecoder("latin1").decode(f.subarray(tcp + (f[tcp + 12] >> 4) * 4));
  }).filter((s) => s.length > 0);
  return { report, payloads };
}

const open = (flow: number): CtapRecord => ({
  type: REC_FLOW_OPEN,
  flow,
  sec: 100,
  nsec: flow,
  ipVersion: 4,
  ipProto: 6,
  clientPort: 40000 + flow,
  serverPort: 25,
  clientIp: new Uint8Array([10, 0, 0, 1]),
  serverIp: new Uint8Array([10, 0, 0, 2]),
  user: "",
  site: "",
  serverName: "",
});
const data = (flow: number, dir: 0 | 1, offset: number, text: string, t: number): CtapRecord => ({
  type: REC_DATA,
  flow,
  sec: 101 + t,
  nsec: 0,
  dir,
  offset,
  payload: ASCII.encode(text),
});
const fin = (flow: number, dir: 0 | 1, finalOffset: number, t: number): CtapRecord => ({
  type: REC_FLOW_CLOSE,
  flow,
  sec: 101 + t,
  nsec: 0,
  dir,
  kind: CLOSE_FIN,
  finalOffset,
});

Deno.test("decrypt mode: plain flows, client or server first, pass whole and in order as not_tls", () => {
  const { report, payloads } = run([
    open(1),
    data(1, 0, 0, "GET / HTTP/1.1\r\n\r\n", 1),
    data(1, 1, 0, "HTTP/1.1 200 OK\r\n\r\n", 2),
    fin(1, 0, 18, 3),
    fin(1, 1, 19, 3),
    open(2),
    data(2, 1, 0, "220 mail ESMTP\r\n", 4),
    data(2, 0, 0, "EHLO x\r\n", 5),
    data(2, 1, 16, "250 ok\r\n", 6),
    fin(2, 0, 8, 7),
    fin(2, 1, 24, 7),
  ]);
  assertEquals(payloads, [
    "GET / HTTP/1.1\r\n\r\n",
    "HTTP/1.1 200 OK\r\n\r\n",
    "220 mail ESMTP\r\n",
    "EHLO x\r\n",
    "250 ok\r\n",
  ]);
  assertEquals(report.decryption, { not_tls: 2 });
  assertEquals(report.bytes.payload, 18 + 19 + 16 + 8 + 8);
});

Deno.test("decrypt mode: a gap before any byte, or no bytes at all, leaves the flow as it was (not_tls)", () => {
  const { report, payloads } = run([
    open(3),
    data(3, 0, 10, "after the hole", 1),
    fin(3, 0, 24, 2),
    fin(3, 1, 0, 2),
    open(4),
    fin(4, 0, 0, 3),
    fin(4, 1, 0, 3),
  ]);
  assertEquals(payloads, ["after the hole"]);
  assertEquals(report.gaps.count, 1);
  assertEquals(report.decryption, { not_tls: 2 });
});

Deno.test("decrypt mode: a flow starting like a TLS record is held for its session, then passed as it was", () => {
  // A handshake record header with a body that is no ClientHello: not TLS after all.
  const { report, payloads } = run([
    open(5),
    data(5, 0, 0, "\x16\x03\x01\x00\x04abcd", 1),
    data(5, 1, 0, "reply", 2),
    fin(5, 0, 9, 3),
    fin(5, 1, 5, 3),
  ]);
  assertEquals(payloads, ["\x16\x03\x01\x00\x04abcd", "reply"]);
  assertEquals(report.decryption, { not_tls: 1 });
});
