/**
 * CaptureToRecords: a real capture in, CTAP records out, in time order:
 * each flow's FLOW_OPEN before its DATA, DATA contiguous per direction,
 * non-TCP frames as PACKET records, the TLS server name on FLOW_OPEN.
 */
import { assert, assertEquals } from "../../tests/assert.ts";
import { type CapturedPacket, createCaptureReader } from "../format/capture.ts";
import { REC_DATA, REC_FLOW_CLOSE, REC_FLOW_OPEN, REC_PACKET } from "../format/ctap_record.ts";
import { type CaptureRecord, CaptureToRecords } from "./capture_records.ts";

const FIXTURES = new URL("../../tests/fixtures/", import.meta.url);

function records(file: string, extra: CapturedPacket[] = []) {
  const out: CaptureRecord[] = [];
  const hellos: Uint8Array[] = [];
  const c = new CaptureToRecords({
    user: "u@example.com",
    onRecord: (r) => out.push(r),
    onClientHello: (random) => hellos.push(random),
  });
  let n = 0;
  const r = createCaptureReader((p) => c.packet(p, file, ++n), (p) => {
    throw new Error(p.detail);
  });
  r.push(Deno.readFileSync(new URL(file, FIXTURES)));
  r.finish();
  for (const p of extra) c.packet(p, "extra", ++n);
  c.finish();
  return { out, hellos, stats: c.stats };
}

Deno.test("CaptureToRecords turns http_lo_us.pcap into one flow, opened before its data", () => {
  const { out, stats } = records("formats/http_lo_us.pcap");
  assertEquals(stats.flows, 1);
  assertEquals(out[0].type, REC_FLOW_OPEN);
  const open = out[0] as Extract<CaptureRecord, { type: typeof REC_FLOW_OPEN }>;
  assertEquals(open.user, "u@example.com");
  assertEquals(open.serverPort, 8765);
  const next = [0, 0];
  for (const r of out) {
    if (r.type !== REC_DATA) continue;
    assertEquals(r.offset, next[r.dir], `dir ${r.dir} offset`);
    next[r.dir] += r.payload.length;
  }
  assert(next[0] > 0 && next[1] > 0, `bytes ${next}`);
  assertEquals(out.filter((r) => r.type === REC_FLOW_CLOSE).length, 2);
  for (let i = 1; i < out.length; i++) {
    const a = out[i - 1], b = out[i];
    assert(a.sec < b.sec || (a.sec === b.sec && a.nsec <= b.nsec), `record ${i} in time order`);
  }
});

Deno.test("CaptureToRecords reads the ClientHello and passes a UDP frame as a PACKET record", () => {
  // IPv4/UDP 10.0.0.1:53 -> 10.0.0.2:53 in an Ethernet frame, after the capture
  const frame = new Uint8Array(14 + 20 + 8 + 4);
  frame.set([0x08, 0x00], 12);
  frame.set([0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  frame.set([0, 53, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4], 34);
  const udp = {
    sec: 2_000_000_000,
    nsec: 0,
    linkType: 1,
    origLen: frame.length,
    data: frame,
    interfaceId: 0,
  };
  const { out, hellos, stats } = records("formats/tls12_lo.pcap", [udp]);
  assertEquals(hellos.length, 1);
  assertEquals(hellos[0].length, 32);
  assertEquals(stats.otherPackets, 1);
  const last = out.filter((r) => r.type === REC_PACKET);
  assertEquals(last.length, 1);
  assertEquals((last[0] as Extract<CaptureRecord, { type: typeof REC_PACKET }>).data, frame);
});
