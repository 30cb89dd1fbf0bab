/**
 * Hands packet batches to the exporters, double-buffered: while the
 * exporters write one batch (the pcap exporter hands its arena straight to
 * the kernel), the stitcher fills the other, so the pipeline does not sit
 * idle while a write waits. A batch is reused only once every exporter's
 * write of it has resolved (the `OutPacket` lifetime of core/plugin.ts), and
 * at most one write is in flight per exporter, in batch order.
 *
 * Secrets go out after every packet batched before them (a secret follows
 * its ClientHello and precedes anything it decrypts).
 */
import type { Exporter, SessionSecret } from "../plugin.ts";
import { PacketBatch } from "../stitch/packet_batch.ts";
import type { RunReport } from "./report.ts";

export class BatchOutput {
  /** The batch to fill now. */
  batch: PacketBatch;
  private spare: PacketBatch;
  private writing: Promise<void> | null = null;

  constructor(private readonly exporters: Exporter[], private readonly report: RunReport) {
    this.batch = new PacketBatch();
    this.spare = new PacketBatch();
  }

  /** Starts writing the filled batch and switches to the other one. */
  async flush(): Promise<void> {
    const full = this.batch;
    if (full.count === 0) return;
    await this.settle();
    this.report.packets.out += full.count;
    this.report.bytes.frames += full.used;
    this.writing = this.write(full);
    this.batch = this.spare;
    this.spare = full;
  }

  /** Sends secrets after the packets already batched. */
  async secrets(list: SessionSecret[]): Promise<void> {
    await this.flush();
    await this.settle();
    for (const e of this.exporters) await e.secrets?.(list);
  }

  /** Writes what is left and flushes the exporters. */
  async finish(): Promise<void> {
    await this.flush();
    await this.settle();
    for (const e of this.exporters) await e.flush();
  }

  private async write(b: PacketBatch): Promise<void> {
    for (const e of this.exporters) await e.write(b.packets);
  }

  /** Waits for the write in flight; its batch is then free again. */
  private async settle(): Promise<void> {
    const w = this.writing;
    if (w === null) return;
    this.writing = null;
    await w;
    this.spare.reset();
  }
}
