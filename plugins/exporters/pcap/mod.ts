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

export class PcapExporter implements Exporter {
  private readonly w: PcapWriter | PcapngWriter;
  private readonly pcapng: boolean;
  private headerWritten = false;
  /** Bytes written to the output so far (its position). */
  position = 0;

  constructor(
    private readonly out: OutputStream,
    opts: { pcapng?: boolean; nanos?: boolean } = {},
  ) {
    this.pcapng = opts.pcapng ?? false;
    this.w = this.pcapng
      ? new PcapngWriter({
        linkType: 1,
        nanos: opts.nanos ?? true,
        bufferBytes: FLUSH_BYTES + (1 << 20),
      })
      : new PcapWriter({
        linkType: 1,
        nanos: opts.nanos ?? false,
        bufferBytes: FLUSH_BYTES + (1 << 20),
      });
  }

  async write(batch: readonly OutPacket[]): Promise<void> {
    await this.header();
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
