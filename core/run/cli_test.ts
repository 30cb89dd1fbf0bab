import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { hostPortFlag, parseFlags, parseHostPort, STITCH_FLAGS, UsageError } from "./cli.ts";

Deno.test("parseHostPort() reads a host name, an IPv4 address or a bracketed IPv6 address and a port", () => {
  assertEquals(parseHostPort("127.0.0.1:9090"), { host: "127.0.0.1", port: 9090 });
  assertEquals(parseHostPort("localhost:0"), { host: "localhost", port: 0 });
  assertEquals(parseHostPort("metrics.example-1.internal:65535"), {
    host: "metrics.example-1.internal",
    port: 65535,
  });
  assertEquals(parseHostPort("[::1]:9090"), { host: "::1", port: 9090 });
  assertEquals(parseHostPort("[::ffff:127.0.0.1]:80"), { host: "::ffff:127.0.0.1", port: 80 });
});

Deno.test("parseHostPort() rejects anything that is not HOST:PORT", () => {
  for (
    const bad of [
      "",
      "9090",
      ":9090",
      "127.0.0.1",
      "127.0.0.1:",
      "127.0.0.1:65536",
      "127.0.0.1:-1",
      "127.0.0.1:90a",
      "127.0.0.1:123456",
      "::1:9090",
      "[::1]",
      "[]:80",
      "[host]:80",
      "a b:80",
      "-host:80",
      "host-:80",
      "http://127.0.0.1:9090",
      "127.0.0.1:9090/metrics",
      " 127.0.0.1:9090",
    ]
  ) {
    assertEquals(parseHostPort(bad), null, `'${bad}'`);
  }
});

Deno.test("hostPortFlag() names the flag and the value it rejects", () => {
  const values = parseFlags(["--metrics-listen", "0.0.0.0"], STITCH_FLAGS);
  assertThrows(
    () => hostPortFlag(values, "metrics-listen"),
    UsageError,
    "flag --metrics-listen: '0.0.0.0' is not HOST:PORT",
  );
  assertEquals(hostPortFlag({}, "metrics-listen"), undefined);
  assertEquals(
    hostPortFlag(parseFlags(["--metrics-listen=127.0.0.1:0"], STITCH_FLAGS), "metrics-listen"),
    { host: "127.0.0.1", port: 0 },
  );
});
