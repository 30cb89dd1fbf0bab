/**
 * The run's counters, kept in one place from the start (metrics read them
 * later), and the JSON summary `--report FILE` writes (DESIGN §4).
 *
 * Problems are listed with the object key (or input name) and reason so a
 * user can find them; the list is capped, the counts are not. Nothing here
 * may ever hold a secret.
 */

export interface ProblemEntry {
  /** Object key or input file the problem was found in. */
  where: string;
  kind: string;
  offset?: number;
  detail: string;
}

const MAX_LISTED_PROBLEMS = 1000;

export class RunReport {
  readonly startedAt = new Date();
  finishedAt: Date | null = null;

  objects = {
    listed: 0,
    read: 0,
    bytesRead: 0,
    /** Objects not read at all, by reason (bad_name, outside_window, ...). */
    skipped: {} as Record<string, number>,
    /** Objects read but damaged (their good records were used). */
    damaged: 0,
    truncated: 0,
    failed: 0,
  };
  records = {
    total: 0,
    badCrc: 0,
    malformed: 0,
    unknownType: 0,
    outsideWindow: 0,
  };
  flows = {
    opened: 0,
    midstream: 0,
    closedFin: 0,
    closedRst: 0,
    closedTimeout: 0,
    openAtEnd: 0,
    orphaned: 0,
    orphanedBytes: 0,
    lateRecords: 0,
  };
  packets = { out: 0, synthesized: 0, passedThrough: 0, filtered: 0 };
  bytes = { payload: 0, frames: 0, duplicate: 0, overlap: 0 };
  gaps = { count: 0, bytes: 0 };
  keys = { objects: 0, entries: 0, malformed: 0, unknownLabels: 0 };
  decryption: Record<string, number> = {};
  errors: Record<string, number> = {};
  problems: ProblemEntry[] = [];
  problemsNotListed = 0;

  /** Counts a problem by kind and lists it (up to a cap). */
  problem(p: ProblemEntry): void {
    this.errors[p.kind] = (this.errors[p.kind] ?? 0) + 1;
    if (this.problems.length < MAX_LISTED_PROBLEMS) this.problems.push(p);
    else this.problemsNotListed++;
  }

  skip(reason: string): void {
    this.objects.skipped[reason] = (this.objects.skipped[reason] ?? 0) + 1;
  }

  /** Problems that make `--strict` fail the run. */
  get problemCount(): number {
    let n = 0;
    for (const k in this.errors) n += this.errors[k];
    return n;
  }

  toJSON(): Record<string, unknown> {
    return {
      startedAt: this.startedAt.toISOString(),
      finishedAt: (this.finishedAt ?? new Date()).toISOString(),
      objects: this.objects,
      records: this.records,
      flows: this.flows,
      packets: this.packets,
      bytes: this.bytes,
      gaps: this.gaps,
      keys: this.keys,
      decryption: this.decryption,
      errors: this.errors,
      problems: this.problems,
      problemsNotListed: this.problemsNotListed,
    };
  }

  /** The one line printed at the end of a run. */
  summaryLine(seconds: number): string {
    const skipped = Object.values(this.objects.skipped).reduce((a, b) => a + b, 0);
    const mb = this.bytes.payload / 1e6;
    return `stitched ${this.objects.read} objects (${skipped} skipped, ${this.objects.damaged} damaged), ` +
      `${this.flows.opened} flows, ${this.packets.out} packets, ${mb.toFixed(1)} MB payload, ` +
      `${this.gaps.count} gaps, ${this.problemCount} problems` +
      (this.decryption.tls_flows === undefined
        ? ""
        : `, ${
          this.decryption.decrypted ?? 0
        } of ${this.decryption.tls_flows} TLS flows decrypted`) +
      ` in ${seconds.toFixed(2)} s`;
  }
}
