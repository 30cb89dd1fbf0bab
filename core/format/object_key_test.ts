import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import {
  formatObjectKey,
  globToRegExp,
  HOUR_MS,
  hourFolder,
  hourPrefixes,
  isCaptureArchiveKey,
  isKeylogKey,
  listingPrefixes,
  matchesAnyGlob,
  overlapsWindow,
  parseObjectKey,
} from "./object_key.ts";

const START = Date.UTC(2024, 1, 29, 23, 59, 30, 123); // leap day, last minute
const KEY = "data/US-NYC1/2024/02/29/23/1709251170123-1709251230000-w01-0000000042.ctap.gz";

Deno.test("parseObjectKey() reads every part of a data key", () => {
  assertEquals(parseObjectKey(KEY), {
    kind: "data",
    origin: "US-NYC1",
    year: 2024,
    month: 2,
    day: 29,
    hour: 23,
    startMs: START,
    endMs: 1709251230000,
    writer: "w01",
    seq: 42,
    gz: true,
    ext: "ctap",
  });
});

Deno.test("formatObjectKey() and parseObjectKey() round-trip, with and without a prefix", () => {
  for (const prefix of ["", "cap", "cap/", "a/b/"]) {
    for (const kind of ["data", "keys"] as const) {
      for (const gz of [false, true]) {
        const fields = {
          kind,
          origin: "eu_west.1-b",
          startMs: START,
          endMs: START + 60_000,
          writer: "z9",
          seq: 9_999_999_999,
          gz,
        };
        const key = formatObjectKey(fields, prefix);
        assert(key.startsWith(prefix.replace(/\/?$/, "/").replace(/^\/$/, "")), key);
        const k = parseObjectKey(key, prefix);
        assert(k !== null, key);
        assertEquals(
          {
            kind: k.kind,
            origin: k.origin,
            startMs: k.startMs,
            endMs: k.endMs,
            writer: k.writer,
            seq: k.seq,
            gz: k.gz,
          },
          fields,
        );
        assertEquals(k.ext, kind === "data" ? "ctap" : "keys");
      }
    }
  }
  assertEquals(formatObjectKey({ ...parseObjectKey(KEY)!, gz: true }), KEY);
});

Deno.test("parseObjectKey() rejects keys that do not follow the layout", () => {
  const bad = [
    "", // empty
    KEY.replace("data/", "other/"),
    KEY.replace(".ctap.gz", ".keys.gz"), // data with a keys extension
    KEY.replace("/23/", "/22/"), // hour folder is not start's hour
    KEY.replace("/29/", "/28/"),
    KEY.replace("1709251170123-", "170925117012-"), // 12-digit start
    KEY.replace("1709251230000", "1709251170122"), // end before start
    KEY.replace("-w01-", "-W01-"), // upper-case writer
    KEY.replace("-w01-", "-abcdefghijklmnopq-"), // 17-char writer
    KEY.replace("-0000000042", "-000000042"), // 9-digit seq
    KEY.replace("US-NYC1", "US NYC1"),
    KEY.replace("US-NYC1", "x".repeat(65)),
    KEY.replace("US-NYC1", ".."),
    KEY.replace(".gz", ".gzip"),
    KEY + "/",
    "data/US-NYC1/2024/02/29/23/",
  ];
  for (const k of bad) assertEquals(parseObjectKey(k), null, k);
  assertEquals(parseObjectKey(KEY, "other"), null);
  assertEquals(parseObjectKey("cap/" + KEY, "cap")?.origin, "US-NYC1");
  assertEquals(parseObjectKey("capx/" + KEY, "cap"), null);
});

Deno.test("formatObjectKey() throws on fields the layout cannot hold", () => {
  const ok = { kind: "data" as const, origin: "o", startMs: 1, endMs: 2, writer: "w", seq: 1 };
  assertThrows(() => formatObjectKey({ ...ok, origin: "a/b" }), RangeError, "origin");
  assertThrows(() => formatObjectKey({ ...ok, writer: "W" }), RangeError, "writer");
  assertThrows(() => formatObjectKey({ ...ok, startMs: 3 }), RangeError, "startMs 3 > endMs 2");
  assertThrows(() => formatObjectKey({ ...ok, seq: 1e10 }), RangeError, "seq");
  assertEquals(
    formatObjectKey(ok),
    "data/o/1970/01/01/00/0000000000001-0000000000002-w-0000000001.ctap",
  );
});

Deno.test("hourPrefixes() lists single hours across a day and month boundary", () => {
  const s = Date.UTC(2024, 0, 31, 22, 30);
  assertEquals(hourPrefixes("data/o/", s, Date.UTC(2024, 1, 1, 1, 0, 0, 1)), [
    "data/o/2024/01/31/22/",
    "data/o/2024/01/31/23/",
    "data/o/2024/02/01/00/",
    "data/o/2024/02/01/01/",
  ]);
  // The end is exclusive: a window ending on the hour does not list that hour.
  assertEquals(hourPrefixes("b/", s, Date.UTC(2024, 1, 1, 0)), [
    "b/2024/01/31/22/",
    "b/2024/01/31/23/",
  ]);
  assertEquals(hourPrefixes("b/", s, s), []);
  assertEquals(hourPrefixes("b/", s, s + 1), ["b/2024/01/31/22/"]);
});

Deno.test("hourPrefixes() lists whole days, months and years as one folder", () => {
  assertEquals(hourPrefixes("b/", Date.UTC(2023, 11, 30, 23), Date.UTC(2025, 2, 2, 1)), [
    "b/2023/12/30/23/",
    "b/2023/12/31/",
    "b/2024/",
    "b/2025/01/",
    "b/2025/02/",
    "b/2025/03/01/",
    "b/2025/03/02/00/",
  ]);
  assertEquals(hourPrefixes("b/", Date.UTC(2024, 1, 28), Date.UTC(2024, 2, 1)), [
    "b/2024/02/28/",
    "b/2024/02/29/",
  ]);
  // Any window: the prefixes cover exactly its hours, each once.
  let seed = 3;
  for (let i = 0; i < 20; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const s = Date.UTC(2023, 10, 1) + (seed % 5000) * HOUR_MS + (seed % 7) * 60_000;
    const e = s + ((seed >> 8) % 3000) * HOUR_MS + (seed % 11) * 1000;
    const prefixes = hourPrefixes("b/", s, e);
    let covered = 0;
    for (let t = Math.floor(s / HOUR_MS) * HOUR_MS; t < e; t += HOUR_MS) {
      const hits = prefixes.filter((p) => hourFolder("b/", t).startsWith(p)).length;
      if (hits !== 1) assertEquals(hits, 1, `hour ${new Date(t).toISOString()} in ${s}..${e}`);
      covered++;
    }
    const hoursIn = (p: string) => {
      const [y, m, d, h] = p.split("/").slice(1, -1).map(Number);
      if (h !== undefined) return 1;
      if (d !== undefined) return 24;
      if (m !== undefined) return (Date.UTC(y, m, 1) - Date.UTC(y, m - 1, 1)) / HOUR_MS;
      return (Date.UTC(y + 1, 0, 1) - Date.UTC(y, 0, 1)) / HOUR_MS;
    };
    assertEquals(prefixes.reduce((n, p) => n + hoursIn(p), 0), covered);
  }
});

Deno.test("listingPrefixes() looks one hour back for objects that started before the window", () => {
  const s = Date.UTC(2024, 5, 1, 0, 10);
  const e = Date.UTC(2024, 5, 1, 2, 0);
  assertEquals(listingPrefixes("data", ["A", "B"], s, e, "cap"), [
    "cap/data/A/2024/05/31/23/",
    "cap/data/A/2024/06/01/00/",
    "cap/data/A/2024/06/01/01/",
    "cap/data/B/2024/05/31/23/",
    "cap/data/B/2024/06/01/00/",
    "cap/data/B/2024/06/01/01/",
  ]);
  assertEquals(listingPrefixes("keys", null, s, e), ["keys/"]);
  assertEquals(listingPrefixes("keys", ["A"], null, e), ["keys/A/"]);
  assertEquals(listingPrefixes("data", [], s, e), []);
});

Deno.test("overlapsWindow() keeps objects whose records can fall in [S, E)", () => {
  const k = { startMs: 100, endMs: 200 };
  assert(overlapsWindow(k, 150, 160));
  assert(overlapsWindow(k, 199, null));
  assert(!overlapsWindow(k, 200, null));
  assert(overlapsWindow(k, null, 101));
  assert(!overlapsWindow(k, null, 100));
  assert(overlapsWindow(k, null, null));
});

Deno.test("globToRegExp() supports *, ?, sets, ranges and negation", () => {
  const cases: [string, string, boolean][] = [
    ["US-*", "US-NYC1", true],
    ["US-*", "EU-FRA1", false],
    ["*", "", true],
    ["US-NYC?", "US-NYC1", true],
    ["US-NYC?", "US-NYC12", false],
    ["[AE][US]-*", "EU-FRA1", true],
    ["[!E]*", "EU-FRA1", false],
    ["[^E]*", "US-NYC1", true],
    ["*[0-3]", "US-NYC2", true],
    ["*[0-3]", "US-NYC4", false],
    ["a.b", "axb", false],
    ["a.b", "a.b", true],
    ["[ab", "[ab", true],
    ["x(y)+", "x(y)+", true],
    ["[]]", "]", true],
    ["us-*", "US-NYC1", false],
  ];
  for (const [glob, name, want] of cases) {
    assertEquals(globToRegExp(glob).test(name), want, `${glob} ~ ${name}`);
  }
  assert(matchesAnyGlob("US-NYC1", ["EU-*", "US-*"]));
  assert(!matchesAnyGlob("US-NYC1", []));
});

Deno.test("isCaptureArchiveKey() and isKeylogKey() recognise §4 names", () => {
  assert(isCaptureArchiveKey("raw/2024/a.pcap"));
  assert(isCaptureArchiveKey("raw/a.pcapng.gz"));
  assert(!isCaptureArchiveKey("raw/a.pcap.zip"));
  assert(!isCaptureArchiveKey(KEY));
  assert(isKeylogKey("keys/host1/sslkeys.txt"));
  assert(isKeylogKey("cap/keys/a.keylog.gz", "cap"));
  assert(isKeylogKey("keys/US-NYC1/2024/02/29/23/x.keys"));
  assert(!isKeylogKey("data/a.keys"));
  assert(!isKeylogKey("keys/a.pcap"));
});
