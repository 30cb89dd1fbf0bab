/**
 * Test oracle: what tshark (Wireshark 4.0, an implementation independent of
 * ours) says a pcap contains. Test helper only (Deno; uses Deno.Command).
 *
 * Conventions
 * - A TCP conversation is keyed by `flowKey(client, cport, server, sport)`,
 *   i.e. `"clientIp:port>serverIp:port"`, IPv6 addresses in brackets
 *   (`"[::1]:50498>[::1]:8443"`). The client is the sender of the first
 *   SYN without ACK; without one (capture started mid-flow), the sender of
 *   the conversation's first frame.
 * - Every tshark run uses `-o tcp.reassemble_out_of_order:TRUE` (needed for
 *   captures with loss/reordering) and never validates checksums (loopback
 *   captures carry wrong ones; tshark's default is off).
 *
 * Streams are extracted with `-z follow,{tcp,tls},raw,N`. One tshark run
 * takes many `-z follow` arguments (it prints one block per stream, in no
 * particular order, each naming its stream in its `Filter:` line), so the
 * streams are fetched in batches of FOLLOW_BATCH per tshark process, at most
 * TSHARK_PARALLEL processes at a time: a 25-stream capture costs two tshark
 * runs (one to list the conversations, one to follow them).
 */

export type StreamBytes = {
  client: Uint8Array;
  server: Uint8Array;
  clientAddr: string;
  serverAddr: string;
};

export type OracleOpts = {
  /** key log file (NSS format) for TLS decryption */
  keylog?: string;
  /** extra tshark arguments, e.g. ["-d", "tcp.port==9443,tls"] */
  extraArgs?: string[];
};

const FOLLOW_BATCH = 64;
const TSHARK_PARALLEL = 2;
const BASE_ARGS = ["-n", "-o", "tcp.reassemble_out_of_order:TRUE"];

/** True when `name` is an executable on PATH (to skip tests when a tool is missing). */
export function hasTool(name: string): boolean {
  const path = Deno.env.get("PATH") ?? "";
  for (const dir of path.split(":")) {
    if (!dir) continue;
    try {
      const st = Deno.statSync(`${dir}/${name}`);
      if (st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** `ip:port`, IPv6 in brackets. */
export function endpoint(ip: string, port: number | string): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The map key of a TCP conversation: `"clientIp:port>serverIp:port"`. */
export function flowKey(
  clientIp: string,
  clientPort: number | string,
  serverIp: string,
  serverPort: number | string,
): string {
  return `${endpoint(clientIp, clientPort)}>${endpoint(serverIp, serverPort)}`;
}

function keylogArgs(opts?: OracleOpts): string[] {
  const a: string[] = [];
  if (opts?.keylog) a.push("-o", `tls.keylog_file:${opts.keylog}`);
  if (opts?.extraArgs) a.push(...opts.extraArgs);
  return a;
}

/** Runs tshark, returns stdout; throws with stderr on failure. */
export async function tshark(args: string[]): Promise<string> {
  const out = await new Deno.Command("tshark", {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr)
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("Running as user"))
    .join("\n");
  if (!out.success) {
    throw new Error(`tshark ${args.join(" ")} failed (${out.code}): ${stderr}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * Field values per frame: one row per frame matching `filter` (a display
 * filter, -Y), one cell per field; several occurrences of a field in one
 * frame are joined with ",".
 */
export async function tsharkFields(
  pcapPath: string,
  fields: string[],
  filter?: string,
  opts?: OracleOpts,
): Promise<string[][]> {
  const args = ["-r", pcapPath, ...BASE_ARGS, ...keylogArgs(opts), "-T", "fields"];
  args.push("-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,", "-E", "quote=n");
  for (const f of fields) args.push("-e", f);
  if (filter) args.push("-Y", filter);
  const text = await tshark(args);
  const rows: string[][] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    rows.push(line.split("\t"));
  }
  return rows;
}

/**
 * Number of frames tshark marks as malformed (`_ws.malformed`: a dissector
 * ran past the data or hit an impossible value) or with an expert info of
 * severity "error" (`_ws.expert.severity == error`: e.g. bogus IP header
 * length, bad TLS record, impossible HTTP framing). Warnings are not
 * counted: tshark warns about legitimate TCP events (retransmission,
 * previous segment not captured, connection reset), which real captures and
 * our retransmission fixture contain. Checksum errors are not counted either
 * (checksum validation is off by default; loopback captures have bad ones).
 */
export async function malformedCount(pcapPath: string, opts?: OracleOpts): Promise<number> {
  const rows = await tsharkFields(
    pcapPath,
    ["frame.number"],
    "_ws.malformed || _ws.expert.severity == error",
    opts,
  );
  return rows.length;
}

type Conv = { index: number; clientAddr: string; serverAddr: string; tls: boolean };

/** The TCP conversations of a capture, by tcp.stream index. */
async function conversations(pcapPath: string, opts?: OracleOpts): Promise<Map<number, Conv>> {
  const rows = await tsharkFields(
    pcapPath,
    [
      "tcp.stream",
      "ip.src",
      "ipv6.src",
      "tcp.srcport",
      "ip.dst",
      "ipv6.dst",
      "tcp.dstport",
      "tcp.flags.syn",
      "tcp.flags.ack",
      "tls.record.content_type",
    ],
    "tcp",
    opts,
  );
  const convs = new Map<number, Conv & { haveSyn: boolean }>();
  // With tunnels a frame has several ip.src: the last one is the innermost.
  const last = (s: string) => s.split(",").pop() ?? "";
  for (const r of rows) {
    const stream = Number(last(r[0]));
    if (!Number.isInteger(stream) || r[0] === "") continue;
    const src = endpoint(last(r[1]) || last(r[2]), last(r[3]));
    const dst = endpoint(last(r[4]) || last(r[5]), last(r[6]));
    const syn = isTrue(last(r[7])) && !isTrue(last(r[8]));
    let c = convs.get(stream);
    if (!c) {
      c = { index: stream, clientAddr: src, serverAddr: dst, tls: false, haveSyn: syn };
      convs.set(stream, c);
    } else if (syn && !c.haveSyn) {
      c.clientAddr = src;
      c.serverAddr = dst;
      c.haveSyn = true;
    }
    if (r[9] && r[9] !== "") c.tls = true;
  }
  return convs;
}

function isTrue(v: string): boolean {
  return v === "1" || v === "True" || v === "true";
}

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = HEX[65 + i] = 10 + i;

function hexInto(line: string, out: number[]): void {
  if (line.length % 2 !== 0) throw new Error(`odd hex line from tshark: ${line.slice(0, 40)}`);
  for (let i = 0; i < line.length; i += 2) {
    const hi = HEX[line.charCodeAt(i)], lo = HEX[line.charCodeAt(i + 1)];
    if (hi < 0 || lo < 0) throw new Error(`bad hex from tshark: ${line.slice(0, 40)}`);
    out.push((hi << 4) | lo);
  }
}

type Followed = { node0: string; node1: string; d0: Uint8Array; d1: Uint8Array };

/**
 * Parses `-z follow,X,raw,N` output. In raw mode each data line is hex; lines
 * from Node 0 start at column 0, lines from Node 1 start with a tab. (Which
 * endpoint is Node 0 is tshark's choice: for TLS, tshark 4.0 sometimes names
 * the server Node 0 and leaves Node 1 as ":0", so callers map nodes to
 * client/server by address, never by position.)
 */
function parseFollow(text: string): Map<number, Followed> {
  const res = new Map<number, Followed>();
  let cur: { stream: number; node0: string; node1: string; d0: number[]; d1: number[] } | null =
    null;
  const flush = () => {
    if (cur && cur.stream >= 0) {
      res.set(cur.stream, {
        node0: cur.node0,
        node1: cur.node1,
        d0: Uint8Array.from(cur.d0),
        d1: Uint8Array.from(cur.d1),
      });
    }
    cur = null;
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("=====")) {
      flush();
      continue;
    }
    if (line.startsWith("Follow: ")) {
      cur = { stream: -1, node0: "", node1: "", d0: [], d1: [] };
      continue;
    }
    if (!cur) continue;
    const c: { stream: number; node0: string; node1: string; d0: number[]; d1: number[] } = cur;
    if (line.startsWith("Filter: ")) {
      const m = /stream eq (\d+)/.exec(line);
      if (!m) throw new Error(`unexpected follow filter line: ${line}`);
      c.stream = Number(m[1]);
    } else if (line.startsWith("Node 0: ")) {
      c.node0 = line.slice(8).trim();
    } else if (line.startsWith("Node 1: ")) {
      c.node1 = line.slice(8).trim();
    } else if (line.startsWith("\t")) {
      hexInto(line.slice(1).trim(), c.d1);
    } else if (line.trim() !== "") {
      hexInto(line.trim(), c.d0);
    }
  }
  flush();
  return res;
}

async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

async function follow(
  pcapPath: string,
  proto: "tcp" | "tls",
  convs: Conv[],
  opts?: OracleOpts,
): Promise<Map<string, StreamBytes>> {
  const batches: Conv[][] = [];
  for (let i = 0; i < convs.length; i += FOLLOW_BATCH) {
    batches.push(convs.slice(i, i + FOLLOW_BATCH));
  }
  const parsed = await pool(batches, TSHARK_PARALLEL, async (batch) => {
    const args = ["-r", pcapPath, ...BASE_ARGS, ...keylogArgs(opts), "-q"];
    for (const c of batch) args.push("-z", `follow,${proto},raw,${c.index}`);
    return parseFollow(await tshark(args));
  });
  const res = new Map<string, StreamBytes>();
  for (let b = 0; b < batches.length; b++) {
    for (const c of batches[b]) {
      const f = parsed[b].get(c.index);
      const empty = new Uint8Array(0);
      let client: Uint8Array = empty, server: Uint8Array = empty;
      if (f) {
        if (f.node0 === c.clientAddr || f.node1 === c.serverAddr) {
          client = f.d0;
          server = f.d1;
        } else if (f.node0 === c.serverAddr || f.node1 === c.clientAddr) {
          client = f.d1;
          server = f.d0;
        } else if (f.d0.length || f.d1.length) {
          throw new Error(
            `follow ${proto} stream ${c.index}: nodes ${f.node0} / ${f.node1} ` +
              `match neither ${c.clientAddr} nor ${c.serverAddr}`,
          );
        }
      }
      const [ci, cp] = splitEndpoint(c.clientAddr), [si, sp] = splitEndpoint(c.serverAddr);
      res.set(flowKey(ci, cp, si, sp), {
        client,
        server,
        clientAddr: c.clientAddr,
        serverAddr: c.serverAddr,
      });
    }
  }
  return res;
}

/** "[::1]:443" -> ["::1", "443"], "1.2.3.4:80" -> ["1.2.3.4", "80"] */
export function splitEndpoint(ep: string): [string, string] {
  const i = ep.lastIndexOf(":");
  let ip = ep.slice(0, i);
  if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
  return [ip, ep.slice(i + 1)];
}

/**
 * For every TCP conversation: the payload bytes each side sent, in sequence
 * order without retransmitted duplicates, as tshark's "Follow TCP stream"
 * reassembles them. Conversations without payload map to empty arrays.
 */
export async function tcpStreams(
  pcapPath: string,
  opts?: OracleOpts,
): Promise<Map<string, StreamBytes>> {
  const convs = [...(await conversations(pcapPath, opts)).values()];
  return await follow(pcapPath, "tcp", convs, opts);
}

/**
 * For every TCP conversation that carries TLS records: the decrypted
 * application data each side sent (tshark "Follow TLS stream" with the key
 * log). A conversation tshark cannot decrypt maps to empty arrays.
 */
export async function tlsPlaintext(
  pcapPath: string,
  keylog: string,
  opts?: OracleOpts,
): Promise<Map<string, StreamBytes>> {
  const o = { ...opts, keylog };
  const convs = [...(await conversations(pcapPath, o)).values()].filter((c) => c.tls);
  return await follow(pcapPath, "tls", convs, o);
}
