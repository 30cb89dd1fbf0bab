/**
 * The command line (DESIGN §4): the flag tables, `--help`, and parsing with
 * validation. Every wrong or conflicting flag becomes a `UsageError` with one
 * line naming the flag; main.ts prints it and exits 2.
 *
 * Parsing is our own (runtime-neutral, ~100 lines) rather than
 * `node:util.parseArgs`, so that core/ stays free of node: imports and
 * plugin flags join the table at run time.
 */
import type { PluginFlag } from "../plugin.ts";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface FlagDef extends PluginFlag {
  group: string;
}

const G_SOURCE = "Source";
const G_SELECT = "Selection";
const G_OUTPUT = "Output";
const G_TLS = "TLS";
const G_RUN = "Run";

/** Where objects are: the original's storage flags (DESIGN §4), shared by both commands. */
function storageFlags(group: string): FlagDef[] {
  return [
    {
      group,
      name: "provider",
      type: "string",
      valueName: "aws|gcp|azure|file",
      help: "where the objects are (file: a local folder laid out as a bucket)",
    },
    {
      group,
      name: "bucket",
      short: "b",
      type: "string",
      valueName: "NAME",
      help: "bucket (Azure: container, default netskope; file: the folder)",
    },
    { group, name: "prefix", type: "string", valueName: "P", help: "key prefix inside the bucket" },
    {
      group,
      name: "credentials",
      short: "c",
      type: "string",
      valueName: "FILE",
      help:
        "AWS {access_key_id, secret_access_key}, GCP service account JSON, or Azure {access_key}",
    },
    {
      group,
      name: "aws-region",
      type: "string",
      valueName: "R",
      help: "S3 region (default us-east-1)",
    },
    {
      group,
      name: "default-aws-credentials",
      type: "boolean",
      help: "use the AWS SDK's default credential chain (environment, profile, instance role)",
    },
    {
      group,
      name: "default-gcp-credentials",
      type: "boolean",
      help: "use Google application default credentials",
    },
    {
      group,
      name: "default-credentials",
      type: "string",
      valueName: "azure",
      help: "azure: use DefaultAzureCredential (managed identity, environment, CLI)",
    },
    {
      group,
      name: "storage-account",
      type: "string",
      valueName: "NAME",
      help: "Azure storage account",
    },
    {
      group,
      name: "endpoint-url",
      type: "string",
      valueName: "URL",
      help:
        "S3-compatible store, GCS or Azure endpoint (emulators); GCS without credentials is unauthenticated",
    },
  ];
}

/** Flags of `stitcher` (stitching). Exporter plugins add theirs under their own names. */
export const STITCH_FLAGS: FlagDef[] = [
  ...storageFlags(G_SOURCE),
  {
    group: G_SOURCE,
    name: "key-credentials",
    type: "string",
    valueName: "FILE",
    help: "credentials for the keys bucket (-k), when not those of -c",
  },
  {
    group: G_SOURCE,
    name: "input-format",
    type: "string",
    valueName: "ctap|pcap",
    help: "what the bucket holds: CTAP objects (default) or plain pcap/pcapng archives",
  },
  {
    group: G_SOURCE,
    name: "fetch-concurrency",
    type: "string",
    valueName: "N",
    help: "objects fetched and decoded at once (default 8)",
  },
  {
    group: G_SELECT,
    name: "start-ts",
    type: "string",
    valueName: "S",
    help: "only traffic at or after this Unix time (seconds)",
  },
  {
    group: G_SELECT,
    name: "end-ts",
    type: "string",
    valueName: "S",
    help: "only traffic before this Unix time (seconds)",
  },
  {
    group: G_SELECT,
    name: "origin-filter",
    type: "string",
    multiple: true,
    valueName: "GLOB",
    help: "origins (POPs) to handle, e.g. 'US-*'; repeatable",
  },
  {
    group: G_OUTPUT,
    name: "mtu",
    type: "string",
    valueName: "BYTES",
    help: "largest packet on the wire; TCP segments are cut to fit (default 1500)",
  },
  {
    group: G_TLS,
    name: "with-decrypted",
    type: "boolean",
    help: "export TLS flows decrypted: only their application plaintext, as clean TCP",
  },
  {
    group: G_TLS,
    name: "transparent",
    type: "boolean",
    help: "export traffic as it was and hand each flow's session secrets to the exporters",
  },
  {
    group: G_TLS,
    name: "keylog",
    type: "string",
    valueName: "FILE",
    help: "NSS key log file (SSLKEYLOGFILE) to use as well",
  },
  {
    group: G_TLS,
    name: "keylog-bucket",
    short: "k",
    type: "string",
    valueName: "NAME",
    help: "bucket holding keys/ objects, when not the data bucket",
  },
  {
    group: G_TLS,
    name: "key-wait",
    type: "string",
    valueName: "SECONDS",
    help: "how long (capture time) traffic waits for a late key (default 30)",
  },
  {
    group: G_TLS,
    name: "max-pending-bytes",
    type: "string",
    valueName: "N",
    help: "bytes held in all while TLS flows wait for a decision (default 268435456)",
  },
  {
    group: G_TLS,
    name: "undecryptable",
    type: "string",
    valueName: "pass|drop",
    help:
      "with --with-decrypted: export a flow that cannot be decrypted as it was, or drop it (default pass)",
  },
  {
    group: G_TLS,
    name: "decrypted-port-map",
    type: "string",
    valueName: "FROM:TO,...",
    help: "server ports of decrypted flows, e.g. 443:80,8443:8080",
  },
  {
    group: G_TLS,
    name: "crypto",
    type: "string",
    valueName: "native|node|noble",
    help: "cipher backend: native = the system's OpenSSL libcrypto through FFI where it loads, " +
      "else node:crypto (default); node = node:crypto only; noble = @noble only " +
      "(what a backend lacks falls back to @noble)",
  },
  {
    group: G_RUN,
    name: "report",
    type: "string",
    valueName: "FILE",
    help: "write a JSON summary of the run",
  },
  {
    group: G_RUN,
    name: "metrics-listen",
    type: "string",
    valueName: "HOST:PORT",
    help:
      "serve Prometheus /metrics and /healthz on HOST:PORT while the run lasts, e.g. 127.0.0.1:9090",
  },
  {
    group: G_RUN,
    name: "strict",
    type: "boolean",
    help: "exit 1 when any input problem was found",
  },
  {
    group: G_RUN,
    name: "log-format",
    type: "string",
    valueName: "text|json",
    help: "log line format (default text)",
  },
  {
    group: G_RUN,
    name: "quiet",
    short: "q",
    type: "boolean",
    help: "log warnings and errors only",
  },
  { group: G_RUN, name: "help", short: "h", type: "boolean", help: "show this help" },
  { group: G_RUN, name: "version", type: "boolean", help: "show the version" },
];

/** Flags of `stitcher pack`. */
export const PACK_FLAGS: FlagDef[] = [
  {
    group: "Input",
    name: "pcap",
    type: "string",
    valueName: "FILE",
    help: "capture to pack: pcap or pcapng, optionally .gz",
  },
  {
    group: "Input",
    name: "keylog",
    type: "string",
    valueName: "FILE",
    help: "NSS key log (SSLKEYLOGFILE) for the capture",
  },
  {
    group: "Input",
    name: "origin",
    type: "string",
    valueName: "NAME",
    help: "origin (POP) name to store the traffic under",
  },
  {
    group: "Input",
    name: "user",
    type: "string",
    valueName: "ID",
    help: "user metadata stamped on every flow",
  },
  {
    group: "Input",
    name: "site",
    type: "string",
    valueName: "NAME",
    help: "site metadata stamped on every flow",
  },
  ...storageFlags("Destination"),
  {
    group: "Layout",
    name: "window",
    type: "string",
    valueName: "SECONDS",
    help: "time span of one object (default 60)",
  },
  {
    group: "Layout",
    name: "writers",
    type: "string",
    valueName: "N",
    help: "spread flows over N writers (default 1)",
  },
  {
    group: "Layout",
    name: "split-directions",
    type: "boolean",
    help: "write a flow's two directions from different writers",
  },
  {
    group: "Layout",
    name: "key-delay",
    type: "string",
    valueName: "SECONDS",
    help: "store each key this much later than its ClientHello (default 0)",
  },
  { group: "Layout", name: "gzip", type: "boolean", help: "gzip each object (.ctap.gz, .keys.gz)" },
  {
    group: "Run",
    name: "report",
    type: "string",
    valueName: "FILE",
    help: "write a JSON summary of the run",
  },
  {
    group: "Run",
    name: "quiet",
    short: "q",
    type: "boolean",
    help: "log warnings and errors only",
  },
  { group: "Run", name: "help", short: "h", type: "boolean", help: "show this help" },
];

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** Parses `argv` against `flags`: `--name value`, `--name=value`, `-x value`, booleans bare. */
export function parseFlags(argv: string[], flags: FlagDef[]): FlagValues {
  const byName = new Map<string, FlagDef>();
  const byShort = new Map<string, FlagDef>();
  for (const f of flags) {
    byName.set(f.name, f);
    if (f.short) byShort.set(f.short, f);
  }
  const values: FlagValues = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let def: FlagDef | undefined;
    let inline: string | undefined;
    let shown = arg;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
      shown = `--${name}`;
      def = byName.get(name);
    } else if (arg.startsWith("-") && arg.length > 1) {
      def = byShort.get(arg.slice(1));
    } else {
      throw new UsageError(`unexpected argument '${arg}' (flags start with --; see --help)`);
    }
    if (def === undefined) throw new UsageError(`unknown flag ${shown} (see --help)`);
    let value: string | boolean;
    if (def.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`flag --${def.name} takes no value`);
      value = true;
    } else {
      if (inline !== undefined) value = inline;
      else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) value = argv[++i];
      else throw new UsageError(`flag --${def.name} needs a value (${def.valueName ?? "VALUE"})`);
    }
    if (def.multiple) {
      const list = (values[def.name] as string[] | undefined) ?? [];
      list.push(value as string);
      values[def.name] = list;
    } else {
      if (values[def.name] !== undefined) throw new UsageError(`flag --${def.name} given twice`);
      values[def.name] = value;
    }
  }
  return values;
}

/** A non-negative number flag, or the default; anything else is a UsageError. */
export function numberFlag(
  values: FlagValues,
  name: string,
  def: number,
  opts: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const raw = values[name];
  if (raw === undefined) return def;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n)) {
    throw new UsageError(`flag --${name}: '${raw}' is not a number`);
  }
  if (opts.integer && !Number.isInteger(n)) {
    throw new UsageError(`flag --${name}: '${raw}' is not a whole number`);
  }
  if (opts.min !== undefined && n < opts.min) {
    throw new UsageError(`flag --${name}: ${n} is below ${opts.min}`);
  }
  if (opts.max !== undefined && n > opts.max) {
    throw new UsageError(`flag --${name}: ${n} is above ${opts.max}`);
  }
  return n;
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** `--help` text: flags grouped, plugin flags under their plugin's name. */
export function helpText(
  usage: string,
  flags: FlagDef[],
  footer = "",
): string {
  const groups = new Map<string, FlagDef[]>();
  for (const f of flags) {
    const list = groups.get(f.group) ?? [];
    list.push(f);
    groups.set(f.group, list);
  }
  const names = (f: FlagDef) =>
    (f.short ? `-${f.short}, ` : "    ") + `--${f.name}` +
    (f.type === "string" ? ` ${f.valueName ?? "VALUE"}` : "");
  const width = Math.max(...flags.map((f) => names(f).length)) + 2;
  const rows: string[] = [usage, ""];
  for (const [group, list] of groups) {
    rows.push(`${group}:`);
    for (const f of list) rows.push(`  ${names(f).padEnd(width)}${f.help}`);
    rows.push("");
  }
  if (footer) rows.push(footer);
  return rows.join("\n");
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * `HOST:PORT`: a host name, an IPv4 address, or an IPv6 address in brackets
 * (`[::1]:9090`), and a port 0-65535 (0: the system picks one); null for
 * anything else.
 */
export function parseHostPort(text: string): HostPort | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)):(\d{1,5})$/
    .exec(text);
  if (m === null || Number(m[3]) > 65535) return null;
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}

/** A `HOST:PORT` flag (see `parseHostPort`); anything else is a UsageError. */
export function hostPortFlag(values: FlagValues, name: string): HostPort | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  const hp = parseHostPort(raw);
  if (hp === null) {
    throw new UsageError(
      `flag --${name}: '${raw}' is not HOST:PORT (e.g. 127.0.0.1:9090 or [::1]:9090, port 0-65535)`,
    );
  }
  return hp;
}

/** `--decrypted-port-map 443:80,8443:8080` as a map; anything else is a UsageError. */
export function portMapFlag(values: FlagValues): Map<number, number> {
  const raw = stringFlag(values, "decrypted-port-map");
  const map = new Map<number, number>();
  if (raw === undefined) return map;
  for (const pair of raw.split(",")) {
    const m = /^(\d{1,5}):(\d{1,5})$/.exec(pair.trim());
    const from = m ? Number(m[1]) : NaN, to = m ? Number(m[2]) : NaN;
    if (!m || from < 1 || from > 65535 || to < 1 || to > 65535) {
      throw new UsageError(`flag --decrypted-port-map: '${pair}' is not PORT:PORT (1-65535)`);
    }
    map.set(from, to);
  }
  return map;
}
