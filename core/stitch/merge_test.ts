import { assertEquals } from "../../tests/assert.ts";
import { WatermarkMerger } from "./merge.ts";

interface T {
  sec: number;
  nsec: number;
  id: string;
}

const t = (sec: number, nsec: number, id: string): T => ({ sec, nsec, id });

Deno.test("WatermarkMerger releases only records before the watermark, in time order", () => {
  const m = new WatermarkMerger<T>();
  m.add([t(1, 0, "a1"), t(3, 0, "a3"), t(5, 0, "a5")]);
  m.add([t(2, 0, "b2"), t(3, 0, "b3"), t(9, 0, "b9")]);
  const out: string[] = [];
  m.release(3, 0, (x) => void out.push(x.id));
  assertEquals(out, ["a1", "b2"]);
  assertEquals(m.held, 4);
  m.release(6, 0, (x) => void out.push(x.id));
  assertEquals(out, ["a1", "b2", "a3", "b3", "a5"]);
  m.releaseAll((x) => void out.push(x.id));
  assertEquals(out.at(-1), "b9");
  assertEquals(m.held, 0);
});

Deno.test("WatermarkMerger orders by nanoseconds within a second and breaks ties by run order", () => {
  const m = new WatermarkMerger<T>();
  m.add([t(1, 500, "a"), t(1, 900, "a2")]);
  m.add([t(1, 100, "b"), t(1, 500, "b2")]);
  const out: string[] = [];
  m.releaseAll((x) => void out.push(x.id));
  assertEquals(out, ["b", "a", "b2", "a2"]);
});

Deno.test("WatermarkMerger sorts a run that is out of order and counts it", () => {
  const m = new WatermarkMerger<T>();
  m.add([t(5, 0, "x5"), t(1, 0, "x1")]);
  const out: string[] = [];
  m.releaseAll((x) => void out.push(x.id));
  assertEquals(out, ["x1", "x5"]);
  assertEquals(m.unsortedRuns, 1);
});

Deno.test("WatermarkMerger merges 50 random runs into one sorted stream", () => {
  const m = new WatermarkMerger<T>();
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  let total = 0;
  for (let r = 0; r < 50; r++) {
    const run: T[] = [];
    let s = Math.floor(rnd() * 100);
    for (let i = 0; i < 40; i++) {
      s += Math.floor(rnd() * 3);
      run.push(t(s, Math.floor(rnd() * 1000), `${r}.${i}`));
    }
    run.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec);
    total += run.length;
    m.add(run);
  }
  const out: T[] = [];
  for (let w = 0; w < 300; w += 7) m.release(w, 0, (x) => void out.push(x));
  m.releaseAll((x) => void out.push(x));
  assertEquals(out.length, total);
  for (let i = 1; i < out.length; i++) {
    const a = out[i - 1], b = out[i];
    if (a.sec > b.sec || (a.sec === b.sec && a.nsec > b.nsec)) {
      throw new Error(`out of order at ${i}: ${a.id} then ${b.id}`);
    }
  }
});

Deno.test("WatermarkMerger.release() pauses when emit asks and resumes where it stopped", () => {
  const m = new WatermarkMerger<T>();
  m.add([t(1, 0, "a"), t(2, 0, "b"), t(3, 0, "c")], 7);
  const out: string[] = [];
  const tags: number[] = [];
  const emit = (x: T, tag: number) => {
    out.push(x.id);
    tags.push(tag);
    return x.id === "a";
  };
  assertEquals(m.release(10, 0, emit), true);
  assertEquals(out, ["a"]);
  assertEquals(m.release(10, 0, emit), false);
  assertEquals(out, ["a", "b", "c"]);
  assertEquals(tags, [7, 7, 7]);
});
