/**
 * The pcap exporter: `-e FILE` writes a pcap (microsecond, Ethernet), or
 * pcapng when FILE ends in `.pcapng`; `-e -` writes pcap to stdout for
 * piping into tshark, Zeek or Suricata. Records are encoded into large
 * buffers and written a buffer at a time (no per-packet syscall).
 *
 * In transparent mode (`secrets()`), a pcapng output gets each batch of
 * session secrets as a Decryption Secrets Block ahead of the packets they
 * decrypt; a plain pcap cannot hold them and ignores them.
 */
import { FRAME_HEADROOM } from "../../../core/stitch/packet_batch.ts";
import type {
  Exporter,
  ExporterPlugin,
  OutPacket,
  OutputStream,
  SessionSecret,
} from "../../../core/plugin.ts";
import { PcapWriter } from "../../../core/format/pcap.ts";
import { PcapngWriter, SECRETS_TLS_KEYLOG } from "../../../core/format/pcapng.ts";
import { formatKeyLogLine } from "../../../core/format/keylog.ts";

const FLUSH_BYTES = 4 << 20;
const SNAPLEN = 262144;

function putU32le(a: Uint8Array, at: number, v: number): void {
  a[at] = v & 0xff;
  a[at + 1] = (v >>> 8) & 0xff;
  a[at + 2] = (v >>> 16) & 0xff;
  a[at + 3] = (v >>> 24) & 0xff;
}

export class PcapExporter implements Exporter {
  private readonly w: PcapWriter | PcapngWriter;
  private readonly pcapng: boolean;
  private readonly nanos: boolean;
  private headerWritten = false;
  /** Bytes written to the output so far (its position). */
  position = 0;

  constructor(
    private readonly out: OutputStream,
    opts: { pcapng?: boolean; nanos?: boolean } = {},
  ) {
    this.pcapng = opts.pcapng ?? false;
    this.nanos = opts.nanos ?? this.pcapng;
    this.w = this.pcapng
      ? new PcapngWriter({ linkType: 1, nanos: this.nanos, bufferBytes: FLUSH_BYTES + (1 << 20) })
      : new PcapWriter({
        linkType: 1,
        nanos: this.nanos,
        bufferBytes: FLUSH_BYTES + (1 << 20),
        snaplen: SNAPLEN,
      });
  }

  async write(batch: readonly OutPacket[]): Promise<void> {
    await this.header();
    if (!this.pcapng) {
      const inPlace = this.recordsInPlace(batch);
      if (inPlace !== null) {
        await this.drain();
        await this.out.write(inPlace);
        this.position += inPlace.length;
        return;
      }
    }
    const w = this.w;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      if (this.pcapng) {
        (w as PcapngWriter).append(
          p.data,
          p.offset,
          p.length,
          p.origLength,
          p.tsSec,
          p.tsNsec,
          p.linkType,
        );
      } else {
        w.append(p.data, p.offset, p.length, p.origLength, p.tsSec, p.tsNsec);
      }
      if (w.pending >= FLUSH_BYTES) await this.drain();
    }
  }

  async secrets(batch: readonly SessionSecret[]): Promise<void> {
    if (!this.pcapng || batch.length === 0) return;
    await this.header();
    const text = batch.map((s) => formatKeyLogLine(s) + "\n").join("");
    (this.w as PcapngWriter).secrets(SECRETS_TLS_KEYLOG, new TextEncoder().encode(text));
  }

  async flush(): Promise<void> {
    await this.header();
    await this.drain();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.out.close();
  }

  /**
   * The fast path: when the batch's frames lie back to back in one arena,
   * each after `FRAME_HEADROOM` free bytes (as `PacketBatch` lays them out),
   * the pcap record headers are written into that headroom and the arena
   * range is the file's bytes. Null when the batch is laid out otherwise.
   */
  private recordsInPlace(batch: readonly OutPacket[]): Uint8Array | null {
    if (batch.length === 0) return null;
    const a = batch[0].data;
    const first = batch[0].offset - FRAME_HEADROOM;
    let at = first;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      if (p.data !== a || p.offset - FRAME_HEADROOM !== at || p.length > SNAPLEN) return null;
      const frac = this.nanos ? p.tsNsec : Math.floor(p.tsNsec / 1000);
      putU32le(a, at, p.tsSec);
      putU32le(a, at + 4, frac);
      putU32le(a, at + 8, p.length);
      putU32le(a, at + 12, p.origLength);
      at = p.offset + p.length;
    }
    return a.subarray(first, at);
  }

  private async header(): Promise<void> {
    if (this.headerWritten) return;
    this.headerWritten = true;
    const h = this.w.header();
    await this.out.write(h);
    this.position += h.length;
  }

  private async drain(): Promise<void> {
    for (let b = this.w.take(); b !== null; b = this.w.take()) {
      await this.out.write(b);
      this.position += b.length;
    }
  }
}

export const plugin: ExporterPlugin = {
  name: "pcap",
  description: "write packets to a pcap or pcapng file, or to stdout",
  flags: [
    {
      name: "export",
      short: "e",
      type: "string",
      valueName: "FILE",
      help: "pcap file to write (.pcapng for pcapng; - for stdout)",
    },
    {
      name: "pcap-nanos",
      type: "boolean",
      help: "nanosecond timestamps in pcap output (pcapng always has them)",
    },
  ],
  async create(values, ctx) {
    const path = values["export"];
    if (typeof path !== "string") return null;
    const out = await ctx.openOutput(path);
    return new PcapExporter(out, {
      pcapng: path.endsWith(".pcapng"),
      nanos: path.endsWith(".pcapng") ? true : values["pcap-nanos"] === true,
    });
  },
};
