/**
 * The health and metrics app (DESIGN §2): `GET /metrics` renders the
 * registry of core/run/metrics.ts (values read from the run's report at
 * scrape time), `GET /healthz` answers with the run's phase, anything else
 * is 404. `serveMetrics` serves it with the runtime's own server
 * (`Bun.serve` or `Deno.serve`) on exactly the HOST:PORT given.
 */
import process from "node:process";
import { Hono } from "hono";
import { parseHostPort } from "../../core/run/cli.ts";
import {
  METRICS_CONTENT_TYPE,
  type MetricsRegistry,
  type RunPhase,
} from "../../core/run/metrics.ts";

export function metricsApp(registry: MetricsRegistry, phase: () => RunPhase): Hono {
  const app = new Hono();
  app.get(
    "/metrics",
    (c) => c.body(registry.render(), 200, { "Content-Type": METRICS_CONTENT_TYPE }),
  );
  app.get("/healthz", (c) => {
    const p = phase();
    return p === "failed"
      ? c.json({ status: "failed", phase: p }, 503)
      : c.json({ status: "ok", phase: p }, 200);
  });
  return app;
}

/** Gauges of this process (they need `node:process`, so they live here, not in core/). */
export function addProcessMetrics(registry: MetricsRegistry): MetricsRegistry {
  return registry
    .gauge(
      "stitcher_process_resident_memory_bytes",
      "resident memory of the stitcher process",
      () => process.memoryUsage.rss(),
    )
    .gauge(
      "stitcher_process_uptime_seconds",
      "seconds since the stitcher process started",
      () => process.uptime(),
    );
}

export interface MetricsServer {
  /** The port bound: the one asked for, or the one the system chose for port 0. */
  port: number;
  /** `http://HOST:PORT` as bound. */
  url: string;
  close(): Promise<void>;
}

interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): void | Promise<void>;
}

interface BunServe {
  serve(opts: {
    hostname: string;
    port: number;
    fetch: (req: Request) => Response | Promise<Response>;
  }): BunServer;
}

/**
 * Serves `app` on `listen` (`HOST:PORT`, an IPv6 address in brackets; port 0
 * picks a free port) until `close()`.
 */
export function serveMetrics(
  listen: string,
  app: { fetch: (req: Request) => Response | Promise<Response> },
): MetricsServer {
  const hp = parseHostPort(listen);
  if (hp === null) {
    throw new Error(`Cannot serve metrics on '${listen}': not HOST:PORT (e.g. 127.0.0.1:9090)`);
  }
  const fetch = (req: Request) => app.fetch(req);
  const urlOf = (port: number) =>
    `http://${hp.host.includes(":") ? `[${hp.host}]` : hp.host}:${port}`;
  try {
    if ("Bun" in globalThis) {
      const bun = (globalThis as unknown as { Bun: BunServe }).Bun;
      const s = bun.serve({ hostname: hp.host, port: hp.port, fetch });
      return { port: s.port, url: urlOf(s.port), close: async () => await s.stop(true) };
    }
    const s = Deno.serve({ hostname: hp.host, port: hp.port, onListen: () => {} }, fetch);
    return { port: s.addr.port, url: urlOf(s.addr.port), close: () => s.shutdown() };
  } catch (e) {
    throw new Error(`Cannot serve metrics on ${listen}: ${(e as Error).message}`);
  }
}
