/**
 * createCaptureReader: the first four bytes pick pcap or pcapng, however the
 * input is chunked; anything else is one `bad_magic`.
 *
 * ```
 *  bytes ──▶ sniff 4 ──▶ PcapReader | PcapngReader ──▶ same packets as the reader alone
 * ```
 */
import { assertEquals } from "../../tests/assert.ts";
import type { DecodeProblem } from "./ctap_record.ts";
import { type CapturedPacket, createCaptureReader, sniffCaptureFormat } from "./capture.ts";
import { PcapWriter } from "./pcap.ts";

const FIXTURES = new URL("../../tests/fixtures/formats/", import.meta.url);

function run(file: Uint8Array, step: number) {
  const packets: CapturedPacket[] = [];
  const problems: DecodeProblem[] = [];
  const secrets: number[] = [];
  const r = createCaptureReader(
    (p) => packets.push(p),
    (p) => problems.push(p),
    (t) => secrets.push(t),
  );
  for (let o = 0; o < file.length; o += step) r.push(file.slice(o, o + step));
  r.finish();
  return { format: r.format, packets, problems, secrets };
}

const summary = (ps: CapturedPacket[]) =>
  ps.map((p) => [p.sec, p.nsec, p.linkType, p.origLen, p.data.length, p.interfaceId]);

for (
  const [name, format] of [
    ["http_lo_us.pcap", "pcap"],
    ["http_lo_ns.pcap", "pcap"],
    ["http_any_sll2.pcap", "pcap"],
    ["http_lo_ns.pcapng", "pcapng"],
    ["tls12_dsb.pcapng", "pcapng"],
  ] as const
) {
  Deno.test(`createCaptureReader sniffs ${name} as ${format} in any chunking`, () => {
    const file = Deno.readFileSync(new URL(name, FIXTURES));
    assertEquals(sniffCaptureFormat(file), format);
    const whole = run(file, file.length);
    assertEquals(whole.format, format);
    assertEquals(whole.problems, []);
    const lines = Deno.readTextFileSync(new URL(name + ".tshark.txt", FIXTURES)).trimEnd()
      .split("\n");
    assertEquals(whole.packets.length, lines.length);
    assertEquals(whole.secrets.length, name.includes("dsb") ? 1 : 0);
    for (const step of [1, 2, 3, 5, 64]) {
      const got = run(file, step);
      assertEquals(got.problems, []);
      assertEquals(summary(got.packets), summary(whole.packets), `step ${step}`);
    }
  });
}

Deno.test("createCaptureReader sniffs a big-endian pcap", () => {
  const w = new PcapWriter({ linkType: 101, bigEndian: true, nanos: true });
  w.append(new Uint8Array(40), 0, 40, 40, 3, 4);
  const file = new Uint8Array([...w.header(), ...w.take()!]);
  const got = run(file, 1);
  assertEquals(got.problems, []);
  assertEquals(summary(got.packets), [[3, 4, 101, 40, 40, 0]]);
});

Deno.test("createCaptureReader reports bad magic once, naming gzip", () => {
  const gz = run(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5]), 2);
  assertEquals(gz.format, null);
  assertEquals(gz.problems, [{
    kind: "bad_magic",
    offset: 0,
    detail:
      "capture file at offset 0: first bytes 1f 8b 08 00 are neither pcap nor pcapng (gzip: decompress first)",
  }]);
  const text = run(new TextEncoder().encode("CLIENT_RANDOM 00 11\n"), 4);
  assertEquals(text.problems.map((p) => p.kind), ["bad_magic"]);
});

Deno.test("createCaptureReader reports input shorter than the magic as truncated", () => {
  for (const n of [0, 1, 3]) {
    const got = run(new Uint8Array([0xd4, 0xc3, 0xb2]).subarray(0, n), 1);
    assertEquals(got.problems.map((p) => p.detail), [
      `capture file at offset 0: input ends after ${n} of 4 magic bytes`,
    ]);
  }
  const headerOnly = run(new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1, 2, 0]), 1);
  assertEquals(headerOnly.problems.map((p) => p.kind), ["truncated"]);
});
