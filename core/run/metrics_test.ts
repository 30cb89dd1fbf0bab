import { assert, assertEquals, assertMatch, assertThrows } from "../../tests/assert.ts";
import { parsePromText, promValue } from "../../tests/lib/prom_text.ts";
import {
  escapeLabelValue,
  MetricsRegistry,
  reasonLabel,
  registerRunMetrics,
  RUN_PHASES,
  type RunPhase,
} from "./metrics.ts";
import { RunReport } from "./report.ts";

/** A report with every counter set to a distinct value. */
function filledReport(): RunReport {
  const r = new RunReport();
  r.objects.listed = 12;
  r.objects.read = 9;
  r.objects.bytesRead = 123456;
  r.objects.damaged = 2;
  r.objects.truncated = 1;
  r.objects.failed = 1;
  r.skip("outside_window");
  r.skip("outside_window");
  r.skip("bad_name");
  r.records.total = 5000;
  r.records.badCrc = 3;
  r.records.malformed = 4;
  r.records.unknownType = 5;
  r.records.outsideWindow = 6;
  r.flows.opened = 40;
  r.flows.midstream = 2;
  r.flows.closedFin = 30;
  r.flows.closedRst = 5;
  r.flows.closedTimeout = 1;
  r.flows.openAtEnd = 4;
  r.flows.orphaned = 7;
  r.flows.orphanedBytes = 700;
  r.flows.lateRecords = 8;
  r.packets.out = 900;
  r.packets.synthesized = 800;
  r.packets.passedThrough = 100;
  r.packets.filtered = 0;
  r.bytes.payload = 1_000_000;
  r.bytes.frames = 1_100_000;
  r.bytes.duplicate = 11;
  r.bytes.overlap = 12;
  r.gaps.count = 2;
  r.gaps.bytes = 4096;
  r.keys.objects = 3;
  r.keys.entries = 20;
  r.keys.malformed = 1;
  r.keys.unknownLabels = 2;
  r.decryption = {
    tls_flows: 10,
    decrypted: 7,
    undecryptable_no_key: 2,
    undecryptable_bad_tag: 1,
    dropped: 1,
    not_tls: 4,
    plaintext_bytes: 65536,
    failed_after_start_bad_tag: 1,
  };
  r.problem({ where: "data/x", kind: "bad_crc", offset: 10, detail: "crc" });
  r.problem({ where: "data/y", kind: "bad_crc", offset: 20, detail: "crc" });
  r.problem({ where: "data/z", kind: "truncated", detail: "cut" });
  return r;
}

function scrape(report: RunReport, phase?: () => RunPhase): string {
  return registerRunMetrics(new MetricsRegistry(), report, phase).render();
}

Deno.test("registerRunMetrics() renders every report counter under its stitcher_ name", () => {
  const r = filledReport();
  const p = parsePromText(scrape(r, () => "stitching"));
  const v = (name: string, labels?: Record<string, string>) => promValue(p, name, labels);
  assertEquals(v("stitcher_up"), 1);
  assertEquals(v("stitcher_run_start_time_seconds"), r.startedAt.getTime() / 1000);
  assertEquals(v("stitcher_run_phase", { phase: "stitching" }), 1);
  for (const ph of RUN_PHASES) {
    if (ph !== "stitching") assertEquals(v("stitcher_run_phase", { phase: ph }), 0);
  }
  assertEquals(v("stitcher_objects_total", { state: "listed" }), 12);
  assertEquals(v("stitcher_objects_total", { state: "read" }), 9);
  assertEquals(v("stitcher_objects_total", { state: "damaged" }), 2);
  assertEquals(v("stitcher_objects_total", { state: "truncated" }), 1);
  assertEquals(v("stitcher_objects_total", { state: "failed" }), 1);
  assertEquals(v("stitcher_objects_skipped_total", { reason: "outside_window" }), 2);
  assertEquals(v("stitcher_objects_skipped_total", { reason: "bad_name" }), 1);
  assertEquals(v("stitcher_object_bytes_read_total"), 123456);
  assertEquals(v("stitcher_records_total"), 5000);
  assertEquals(v("stitcher_records_rejected_total", { reason: "bad_crc" }), 3);
  assertEquals(v("stitcher_records_rejected_total", { reason: "malformed" }), 4);
  assertEquals(v("stitcher_records_rejected_total", { reason: "unknown_type" }), 5);
  assertEquals(v("stitcher_records_rejected_total", { reason: "outside_window" }), 6);
  assertEquals(v("stitcher_late_records_total"), 8);
  assertEquals(v("stitcher_flows_total", { event: "opened" }), 40);
  assertEquals(v("stitcher_flows_total", { event: "midstream" }), 2);
  assertEquals(v("stitcher_flows_total", { event: "closed_fin" }), 30);
  assertEquals(v("stitcher_flows_total", { event: "closed_rst" }), 5);
  assertEquals(v("stitcher_flows_total", { event: "closed_timeout" }), 1);
  assertEquals(v("stitcher_flows_total", { event: "orphaned" }), 7);
  assertEquals(v("stitcher_flows_open_at_end"), 4);
  assertEquals(v("stitcher_orphaned_bytes_total"), 700);
  assertEquals(v("stitcher_packets_total", { kind: "out" }), 900);
  assertEquals(v("stitcher_packets_total", { kind: "synthesized" }), 800);
  assertEquals(v("stitcher_packets_total", { kind: "passed_through" }), 100);
  assertEquals(v("stitcher_packets_total", { kind: "filtered" }), 0);
  assertEquals(v("stitcher_payload_bytes_total"), 1_000_000);
  assertEquals(v("stitcher_frame_bytes_total"), 1_100_000);
  assertEquals(v("stitcher_duplicate_bytes_total"), 11);
  assertEquals(v("stitcher_overlap_bytes_total"), 12);
  assertEquals(v("stitcher_gaps_total"), 2);
  assertEquals(v("stitcher_gap_bytes_total"), 4096);
  assertEquals(v("stitcher_key_objects_total"), 3);
  assertEquals(v("stitcher_keys_total", { result: "loaded" }), 20);
  assertEquals(v("stitcher_keys_total", { result: "malformed" }), 1);
  assertEquals(v("stitcher_keys_total", { result: "unknown_label" }), 2);
  assertEquals(v("stitcher_tls_flows_detected_total"), 10);
  assertEquals(v("stitcher_tls_plaintext_bytes_total"), 65536);
  assertEquals(v("stitcher_problems_total", { kind: "bad_crc" }), 2);
  assertEquals(v("stitcher_problems_total", { kind: "truncated" }), 1);
  // every flow-count key of report.decryption is a result; the total and byte counts are not
  const results = p.samples.filter((s) => s.name === "stitcher_tls_flows_total");
  assertEquals(
    results.map((s) => [s.labels.result, s.value]),
    [
      ["decrypted", 7],
      ["dropped", 1],
      ["failed_after_start_bad_tag", 1],
      ["not_tls", 4],
      ["undecryptable_bad_tag", 1],
      ["undecryptable_no_key", 2],
    ],
  );
});

Deno.test("registerRunMetrics() gives HELP and TYPE once per metric, counters end in _total", () => {
  const text = scrape(filledReport(), () => "listing");
  const p = parsePromText(text);
  assert(p.order.length >= 25, `${p.order.length} metrics`);
  for (const name of p.order) {
    assertMatch(name, /^stitcher_[a-z0-9_]+$/);
    assert(p.help.get(name)!.length > 0, `HELP of ${name}`);
    assertEquals(text.split(`# HELP ${name} `).length, 2, `one HELP line for ${name}`);
    assertEquals(text.split(`# TYPE ${name} `).length, 2, `one TYPE line for ${name}`);
    if (p.type.get(name) === "counter") assertMatch(name, /_total$/);
    else assertEquals(p.type.get(name), "gauge");
  }
  for (const s of p.samples) assert(p.order.includes(s.name), `${s.name} has HELP and TYPE`);
});

Deno.test("registerRunMetrics() renders the same text for the same report, in a fixed order", () => {
  const a = filledReport();
  const b = filledReport();
  // the same counts reached in another order of keys
  b.decryption = Object.fromEntries(Object.entries(a.decryption).reverse());
  b.errors = Object.fromEntries(Object.entries(a.errors).reverse());
  b.objects.skipped = Object.fromEntries(Object.entries(a.objects.skipped).reverse());
  (b as { startedAt: Date }).startedAt = a.startedAt;
  const reg = registerRunMetrics(new MetricsRegistry(), a);
  assertEquals(reg.render(), reg.render());
  assertEquals(scrape(b), reg.render());
});

Deno.test("registerRunMetrics() of a fresh report renders zeros and empty families", () => {
  const p = parsePromText(scrape(new RunReport()));
  assertEquals(promValue(p, "stitcher_objects_total", { state: "listed" }), 0);
  assertEquals(promValue(p, "stitcher_tls_flows_detected_total"), 0);
  assertEquals(p.samples.filter((s) => s.name === "stitcher_tls_flows_total").length, 0);
  assertEquals(p.samples.filter((s) => s.name === "stitcher_problems_total").length, 0);
  assert(p.type.has("stitcher_problems_total"), "an empty family still has its TYPE");
  assert(!p.type.has("stitcher_run_phase"), "no phase metric without a phase");
});

Deno.test("registerRunMetrics() renders nothing of the report but its numbers and map keys", () => {
  const r = filledReport();
  const secret = "4f3c2b1a00112233445566778899aabbccddeeff00112233445566778899aabb";
  r.problem({ where: `keys/${secret}`, kind: "key_malformed", offset: 1, detail: secret });
  // map keys are reason names chosen by the code; should one ever hold
  // something else, it is cut to a label-safe word, never rendered as is
  r.errors['x"} 1\n# TYPE evil counter\nevil{a="b'] = 1;
  r.decryption[`undecryptable_${"z".repeat(200)}`] = 1;
  const text = scrape(r);
  assert(!text.includes(secret), "no secret in the metrics");
  assert(!text.includes("data/x"), "no object key in the metrics");
  const p = parsePromText(text);
  assert(!p.type.has("evil"), "no injected metric");
  assertEquals(
    promValue(p, "stitcher_problems_total", { kind: "x___1___TYPE_evil_counter_evil_a__b" }),
    1,
  );
  for (const s of p.samples) {
    for (const v of Object.values(s.labels)) assertMatch(v, /^[A-Za-z0-9_.:-]{1,64}$/);
  }
});

Deno.test("reasonLabel() keeps reason names and reduces anything else to [A-Za-z0-9_.:-]{1,64}", () => {
  assertEquals(reasonLabel("undecryptable_no_key"), "undecryptable_no_key");
  assertEquals(reasonLabel('a b"c\\d\ne'), "a_b_c_d_e");
  assertEquals(reasonLabel(""), "unknown");
  assertEquals(reasonLabel("é".repeat(100)).length, 64);
});

Deno.test("MetricsRegistry.render() escapes label values and HELP text per the exposition format", () => {
  assertEquals(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const reg = new MetricsRegistry()
    .gauge("x_info", 'help with \\ and\nnewline and "quotes"', () => [
      { labels: { path: 'C:\\dir\\"q"\nz' }, value: 1 },
    ]);
  const text = reg.render();
  assertEquals(
    text,
    '# HELP x_info help with \\\\ and\\nnewline and "quotes"\n' +
      "# TYPE x_info gauge\n" +
      'x_info{path="C:\\\\dir\\\\\\"q\\"\\nz"} 1\n',
  );
  const p = parsePromText(text);
  assertEquals(p.samples[0].labels.path, 'C:\\dir\\"q"\nz');
  assertEquals(p.help.get("x_info"), 'help with \\ and\nnewline and "quotes"');
});

Deno.test("MetricsRegistry.render() writes NaN and infinities as Go's ParseFloat reads them", () => {
  const text = new MetricsRegistry()
    .gauge("a", "a", () => NaN)
    .gauge("b", "b", () => Infinity)
    .gauge("c", "c", () => -Infinity)
    .gauge("d", "d", () => 0.25)
    .render();
  assertEquals(
    text.split("\n").filter((l) => !l.startsWith("#")),
    ["a NaN", "b +Inf", "c -Inf", "d 0.25", ""],
  );
});

Deno.test("MetricsRegistry rejects bad names, counters without _total and a metric added twice", () => {
  const reg = new MetricsRegistry().gauge("ok_gauge", "h", () => 1);
  assertThrows(() => reg.gauge("ok_gauge", "h", () => 1), Error, "added twice");
  assertThrows(() => reg.gauge("bad-name", "h", () => 1), Error, "'bad-name'");
  assertThrows(() => reg.counter("x_count", "h", () => 1), Error, "_total");
  const bad = new MetricsRegistry().gauge("g", "h", () => [{ labels: { "a-b": "v" }, value: 1 }]);
  assertThrows(() => bad.render(), Error, "'a-b' is not a label name");
});

Deno.test("MetricsRegistry: a caller adds its own gauges, rendered after the run's", () => {
  let rss = 1000;
  const reg = registerRunMetrics(new MetricsRegistry(), new RunReport())
    .gauge("stitcher_process_resident_memory_bytes", "resident memory", () => rss);
  assertEquals(
    promValue(parsePromText(reg.render()), "stitcher_process_resident_memory_bytes"),
    1000,
  );
  rss = 2000;
  const p = parsePromText(reg.render());
  assertEquals(promValue(p, "stitcher_process_resident_memory_bytes"), 2000);
  assertEquals(p.order.at(-1), "stitcher_process_resident_memory_bytes");
});
