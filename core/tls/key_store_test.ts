import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { fromHex } from "../bytes/hex.ts";
import { KeyStore, sessionSecrets } from "./key_store.ts";

const CR1 = "11".repeat(32);
const CR2 = "22".repeat(32);

Deno.test("KeyStore groups a session's secrets by client random (either hex case)", () => {
  const ks = new KeyStore();
  ks.addText(
    [
      "# a comment",
      `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${CR1} ${"a1".repeat(48)}`,
      `SERVER_HANDSHAKE_TRAFFIC_SECRET ${CR1} ${"a2".repeat(48)}`,
      `CLIENT_TRAFFIC_SECRET_0 ${CR1} ${"a3".repeat(48)}`,
      `SERVER_TRAFFIC_SECRET_0 ${CR1} ${"a4".repeat(48)}`,
      `EXPORTER_SECRET ${CR1} ${"a5".repeat(48)}`,
      `CLIENT_EARLY_TRAFFIC_SECRET ${CR1} ${"a6".repeat(48)}`,
      "",
      `CLIENT_RANDOM ${CR2.toUpperCase()} ${"B0".repeat(48)}`,
    ].join("\r\n"),
  );
  assertEquals(ks.size, 2);
  assertEquals(ks.stats, { entries: 7, malformed: 0, unknownLabels: 0, evictions: 0 });
  const k1 = ks.lookup(fromHex(CR1))!;
  assertEquals(k1.clientHandshake, fromHex("a1".repeat(48)));
  assertEquals(k1.serverHandshake, fromHex("a2".repeat(48)));
  assertEquals(k1.clientTraffic0, fromHex("a3".repeat(48)));
  assertEquals(k1.serverTraffic0, fromHex("a4".repeat(48)));
  assertEquals(k1.exporter, fromHex("a5".repeat(48)));
  assertEquals(k1.clientEarly, fromHex("a6".repeat(48)));
  assertEquals(k1.masterSecret, undefined);
  assertEquals(ks.lookup(fromHex(CR2))!.masterSecret, fromHex("b0".repeat(48)));
  assertEquals(ks.lookup(fromHex("33".repeat(32))), null);
  assertEquals(ks.lookup(new Uint8Array(5)), null);
  assertEquals(
    sessionSecrets(fromHex(CR1), k1).map((s) => s.label),
    [
      "CLIENT_EARLY_TRAFFIC_SECRET",
      "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
      "SERVER_HANDSHAKE_TRAFFIC_SECRET",
      "CLIENT_TRAFFIC_SECRET_0",
      "SERVER_TRAFFIC_SECRET_0",
      "EXPORTER_SECRET",
    ],
  );
});

Deno.test("KeyStore counts garbage lines and unknown labels, never throws", () => {
  const ks = new KeyStore();
  ks.addText(
    [
      "garbage",
      `CLIENT_RANDOM ${CR1}`,
      `CLIENT_RANDOM ${CR1.slice(2)} ${"00".repeat(48)}`,
      `CLIENT_RANDOM ${CR1} ${"00".repeat(47)}`,
      `CLIENT_RANDOM ${CR1} ${"zz".repeat(48)}`,
      "\u0000\u0001\u0002",
      `CLIENT_TRAFFIC_SECRET_1 ${CR1} ${"00".repeat(32)}`,
      `CLIENT_RANDOM ${CR1} ${"00".repeat(48)}`,
    ].join("\n"),
  );
  assertEquals(ks.stats, { entries: 1, malformed: 6, unknownLabels: 1, evictions: 0 });
  assertEquals(ks.size, 1);
  assertEquals(ks.add("CLIENT_RANDOM", new Uint8Array(31), new Uint8Array(48)), false);
  assertEquals(ks.add("NOT_A_LABEL", new Uint8Array(32), new Uint8Array(48)), false);
  assertEquals(ks.stats, { entries: 1, malformed: 7, unknownLabels: 2, evictions: 0 });
});

Deno.test("KeyStore keeps at most maxEntries sessions, evicting the oldest", () => {
  const ks = new KeyStore({ maxEntries: 3 });
  const cr = (i: number) => new Uint8Array(32).fill(i);
  for (let i = 1; i <= 5; i++) ks.add("CLIENT_RANDOM", cr(i), new Uint8Array(48).fill(i));
  // A second secret for a held session does not evict.
  ks.add("EXPORTER_SECRET", cr(5), new Uint8Array(32));
  assertEquals(ks.size, 3);
  assertEquals(ks.stats.evictions, 2);
  assertEquals(ks.lookup(cr(1)), null);
  assertEquals(ks.lookup(cr(2)), null);
  assert(ks.lookup(cr(3)) !== null);
  assert(ks.lookup(cr(5))!.exporter !== undefined);
  assertThrows(() => new KeyStore({ maxEntries: 0 }), RangeError, "maxEntries 0");
});

Deno.test("KeyStore copies what it is given", () => {
  const ks = new KeyStore();
  const secret = new Uint8Array(48).fill(7);
  ks.add("CLIENT_RANDOM", new Uint8Array(32), secret);
  secret.fill(0);
  assertEquals(ks.lookup(new Uint8Array(32))!.masterSecret![0], 7);
});
