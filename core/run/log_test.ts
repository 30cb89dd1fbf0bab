import { assertEquals, assertMatch } from "../../tests/assert.ts";
import { createLogger } from "./log.ts";

const fixed = () => new Date("2026-01-02T03:04:05.000Z");

Deno.test("createLogger() writes text lines with quoted values and drops lines below its level", () => {
  const lines: string[] = [];
  const log = createLogger((l) => lines.push(l), { level: "info", now: fixed });
  log.debug("hidden");
  log.warn("skipping object", { key: "data/x y", n: 3 });
  assertEquals(lines, ['2026-01-02T03:04:05.000Z warn  skipping object key="data/x y" n=3']);
});

Deno.test("createLogger() redacts fields named like secrets in JSON output", () => {
  const lines: string[] = [];
  const log = createLogger((l) => lines.push(l), { format: "json", now: fixed });
  log.info("creds", { secret_access_key: "AKIAXXXX", masterSecret: "abcd", bucket: "b" });
  const o = JSON.parse(lines[0]);
  assertEquals(o.secret_access_key, "[redacted]");
  assertEquals(o.masterSecret, "[redacted]");
  assertEquals(o.bucket, "b");
  assertMatch(lines[0], /"level":"info"/);
});
