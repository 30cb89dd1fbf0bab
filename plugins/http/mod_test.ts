import { assert, assertEquals, assertMatch, assertThrows } from "../../tests/assert.ts";
import { parsePromText, promValue } from "../../tests/lib/prom_text.ts";
import { MetricsRegistry, registerRunMetrics, type RunPhase } from "../../core/run/metrics.ts";
import { RunReport } from "../../core/run/report.ts";
import { addProcessMetrics, metricsApp, serveMetrics } from "./mod.ts";

function app(phase: () => RunPhase, report = new RunReport()) {
  return metricsApp(
    addProcessMetrics(registerRunMetrics(new MetricsRegistry(), report, phase)),
    phase,
  );
}

Deno.test("metricsApp() GET /metrics renders the report as it is at each scrape", async () => {
  const report = new RunReport();
  const a = app(() => "stitching", report);
  report.objects.listed = 3;
  let res = await a.request("/metrics");
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  let p = parsePromText(await res.text());
  assertEquals(promValue(p, "stitcher_objects_total", { state: "listed" }), 3);
  assert(promValue(p, "stitcher_process_resident_memory_bytes") > 0);
  assert(promValue(p, "stitcher_process_uptime_seconds") >= 0);
  report.objects.listed = 5;
  res = await a.request("/metrics");
  p = parsePromText(await res.text());
  assertEquals(promValue(p, "stitcher_objects_total", { state: "listed" }), 5);
});

Deno.test("metricsApp() GET /healthz says ok and the phase, 503 when the run failed", async () => {
  let phase: RunPhase = "listing";
  const a = app(() => phase);
  let res = await a.request("/healthz");
  assertEquals(res.status, 200);
  assertMatch(res.headers.get("content-type")!, /^application\/json/);
  assertEquals(await res.json(), { status: "ok", phase: "listing" });
  phase = "failed";
  res = await a.request("/healthz");
  assertEquals(res.status, 503);
  assertEquals(await res.json(), { status: "failed", phase: "failed" });
});

Deno.test("metricsApp() answers 404 to any other path or method", async () => {
  const a = app(() => "done");
  for (const [path, method] of [["/", "GET"], ["/metric", "GET"], ["/metrics", "POST"]]) {
    const res = await a.request(path, { method });
    assertEquals(res.status, 404, `${method} ${path}`);
    await res.body?.cancel();
  }
});

Deno.test("serveMetrics() binds the given host, port 0 picks a free port, close() frees it", async () => {
  const s = serveMetrics("127.0.0.1:0", app(() => "starting"));
  let closed = false;
  try {
    assert(s.port > 0, `port ${s.port}`);
    assertEquals(s.url, `http://127.0.0.1:${s.port}`);
    const res = await fetch(`${s.url}/healthz`);
    assertEquals(await res.json(), { status: "ok", phase: "starting" });
    // the port is taken while it serves
    assertThrows(
      () => serveMetrics(`127.0.0.1:${s.port}`, app(() => "starting")),
      Error,
      `Cannot serve metrics on 127.0.0.1:${s.port}:`,
    );
    await s.close();
    closed = true;
    let refused = false;
    await Deno.connect({ hostname: "127.0.0.1", port: s.port }).then((c) => c.close(), (e) => {
      refused = e instanceof Deno.errors.ConnectionRefused;
    });
    assert(refused, "nothing listens after close()");
  } finally {
    if (!closed) await s.close();
  }
});

Deno.test("serveMetrics() rejects a listen address that is not HOST:PORT", () => {
  for (const bad of ["9090", "localhost", "127.0.0.1:99999", "::1:80"]) {
    assertThrows(
      () => serveMetrics(bad, app(() => "starting")),
      Error,
      `Cannot serve metrics on '${bad}': not HOST:PORT`,
    );
  }
});
