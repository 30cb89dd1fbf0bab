/**
 * Merges the records of many objects into one stream in time order, releasing
 * only what is final: a record is released once its time is below the
 * watermark, the start of every object not yet read (DESIGN §1). Memory is
 * bounded by the records of objects that overlap in time, not by the bucket.
 *
 * Each added run is one object's records, which the spec (ctap-v1 §2) puts in
 * non-decreasing time order; a run that is not is sorted (stably) on entry and
 * counted. Ties between runs go to the run added first, so output is
 * deterministic for a given listing.
 */

export interface Timed {
  sec: number;
  nsec: number;
}

interface Run<T> {
  items: T[];
  pos: number;
  /** The time of items[pos], kept here so that heap comparisons read no item. */
  sec: number;
  nsec: number;
  order: number;
  tag: number;
}

export class WatermarkMerger<T extends Timed> {
  private heap: Run<T>[] = [];
  private added = 0;
  /** Records held, not yet released. */
  held = 0;
  /** Runs that were not in time order when added. */
  unsortedRuns = 0;

  /**
   * Adds one object's records, with a tag handed back with each (the
   * pipeline's index of the object's origin). The array is the merger's now.
   */
  add(items: T[], tag = 0): void {
    if (items.length === 0) return;
    for (let i = 1; i < items.length; i++) {
      const a = items[i - 1], b = items[i];
      if (a.sec > b.sec || (a.sec === b.sec && a.nsec > b.nsec)) {
        this.unsortedRuns++;
        items.sort((x, y) => x.sec - y.sec || x.nsec - y.nsec);
        break;
      }
    }
    this.held += items.length;
    this.push({ items, pos: 0, sec: items[0].sec, nsec: items[0].nsec, order: this.added++, tag });
  }

  /**
   * Emits, in time order, every held record whose time is before (sec, nsec).
   * `emit` returning true pauses the release after that record (the caller
   * has a batch to flush); then `release` returns true and is called again.
   */
  release(
    sec: number,
    nsec: number,
    emit: (item: T, tag: number) => boolean | void,
  ): boolean {
    const heap = this.heap;
    while (heap.length > 0) {
      const run = heap[0];
      if (run.sec > sec || (run.sec === sec && run.nsec >= nsec)) return false;
      const pause = emit(run.items[run.pos], run.tag);
      this.held--;
      if (++run.pos === run.items.length) {
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          this.down(0);
        }
      } else {
        const next = run.items[run.pos];
        run.sec = next.sec;
        run.nsec = next.nsec;
        this.down(0);
      }
      if (pause === true) return true;
    }
    return false;
  }

  /** Emits everything held, in time order. */
  releaseAll(emit: (item: T, tag: number) => boolean | void): boolean {
    return this.release(Infinity, 0, emit);
  }

  private less(a: Run<T>, b: Run<T>): boolean {
    if (a.sec !== b.sec) return a.sec < b.sec;
    if (a.nsec !== b.nsec) return a.nsec < b.nsec;
    return a.order < b.order;
  }

  private push(run: Run<T>): void {
    const heap = this.heap;
    heap.push(run);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < n && this.less(heap[l], heap[m])) m = l;
      if (r < n && this.less(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  }
}
