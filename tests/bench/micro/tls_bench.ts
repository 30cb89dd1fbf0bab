/**
 * TLS decryption throughput of `TlsSession` alone: the TLS flows of the
 * capture fixtures (concurrent_25, tls12_v4, tls13_v6, retrans), their TCP
 * payloads in captured segmentation, pushed through fresh sessions with the
 * native backends until 100 MB of ciphertext went through, five times. Prints
 * the best run's MB/s of stream bytes and µs per record.
 * `bun tests/bench/micro/tls_bench.ts [--crypto node]`, or
 * `deno run -A tests/bench/micro/tls_bench.ts`.
 */
import { readFileSync } from "node:fs";
import { createCaptureReader } from "../../../core/format/capture.ts";
import { type FlowKey, REC_DATA, REC_FLOW_OPEN } from "../../../core/format/ctap_record.ts";
import { CaptureToRecords } from "../../../core/stitch/capture_records.ts";
import { KeyStore } from "../../../core/tls/key_store.ts";
import { nobleBackend } from "../../../core/tls/noble_backend.ts";
import { TlsSession } from "../../../core/tls/session.ts";
import { nativeBackend } from "../../../plugins/crypto/native.ts";
import { opensslBackend } from "../../../plugins/crypto/openssl.ts";

const CAPTURES = new URL("../../fixtures/captures/", import.meta.url);
const FIXTURES = ["concurrent_25", "tls12_v4", "tls13_v6", "retrans"];
const TOTAL = 100e6;

interface Segment {
  dir: 0 | 1;
  bytes: Uint8Array;
}

const keys = new KeyStore();
const flows: Segment[][] = [];
for (const name of FIXTURES) {
  keys.addText(readFileSync(new URL(`${name}.keys`, CAPTURES), "utf8"));
  const byFlow = new Map<FlowKey, Segment[]>();
  const toRecords = new CaptureToRecords({
    onRecord(r) {
      if (r.type === REC_FLOW_OPEN && r.serverPort === 8443) byFlow.set(r.flow, []);
      else if (r.type === REC_DATA) {
        byFlow.get(r.flow)?.push({ dir: r.dir, bytes: r.payload.slice() });
      }
    },
    onProblem() {},
  });
  let index = 0;
  const reader = createCaptureReader((p) => toRecords.packet(p, name, ++index), () => {});
  reader.push(new Uint8Array(readFileSync(new URL(`${name}.pcap`, CAPTURES))));
  reader.finish();
  toRecords.finish();
  flows.push(...byFlow.values());
}
const roundBytes = flows.reduce((a, f) => a + f.reduce((b, s) => b + s.bytes.length, 0), 0);

// `--crypto node` measures node:crypto alone; by default libcrypto through FFI as main.ts does.
const node = nativeBackend();
const primary = process.argv.includes("node") ? node : (await opensslBackend(node)) ?? node;
const backends = { primary, fallback: nobleBackend };
let plaintext = 0;
let records = 0;
const events = {
  plaintext(_dir: 0 | 1, data: Uint8Array) {
    plaintext += data.length;
  },
};

function round(): void {
  for (const f of flows) {
    const s = new TlsSession(keys, backends, events);
    for (const seg of f) s.push(seg.dir, seg.bytes, 0, 0);
    if (s.state !== "decrypting") throw new Error(`flow not decrypted: ${s.state} ${s.failure}`);
    records += s.stats.records;
  }
}

round();
const rounds = Math.ceil(TOTAL / roundBytes);
let s = Infinity;
for (let rep = 0; rep < 5; rep++) {
  plaintext = 0;
  records = 0;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) round();
  s = Math.min(s, (performance.now() - t0) / 1000);
}
// deno-lint-ignore no-console
console.log(
  `TlsSession (${primary.name}): ${flows.length} flows x ${rounds} rounds, ${
    (rounds * roundBytes / 1e6).toFixed(0)
  } MB ` +
    `of stream, ${(plaintext / 1e6).toFixed(0)} MB plaintext, ${records} records: ` +
    `${(rounds * roundBytes / s / 1e6).toFixed(0)} MB/s, ${
      (s / records * 1e6).toFixed(2)
    } µs/record`,
);
