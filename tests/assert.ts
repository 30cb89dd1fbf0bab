/**
 * Test assertions in the shape of Deno std's `@std/assert` (JSR is not
 * reachable from these machines), built on `node:assert`, which Deno, Bun and
 * Node all provide.
 */
import assertNode from "node:assert";

export function assert(cond: unknown, msg?: string): asserts cond {
  assertNode.ok(cond, msg);
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  assertNode.deepStrictEqual(actual, expected, msg);
}

export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  assertNode.notDeepStrictEqual(actual, expected, msg);
}

/** Byte arrays compared by content, with the first differing offset on failure. */
export function assertBytesEqual(actual: Uint8Array, expected: Uint8Array, msg = ""): void {
  if (actual.length === expected.length) {
    let i = 0;
    while (i < actual.length && actual[i] === expected[i]) i++;
    if (i === actual.length) return;
    throw new assertNode.AssertionError({
      message: `${msg} bytes differ at offset ${i}: ${actual[i]} != ${expected[i]}`,
    });
  }
  throw new assertNode.AssertionError({
    message: `${msg} lengths differ: ${actual.length} != ${expected.length}`,
  });
}

export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  assertNode.match(actual, re, msg);
}

export function assertThrows(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  errorClass?: new (...args: any[]) => Error,
  includes?: string,
): Error {
  try {
    fn();
  } catch (e) {
    if (errorClass && !(e instanceof errorClass)) {
      throw new assertNode.AssertionError({
        message: `expected ${errorClass.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`,
      });
    }
    if (includes && !String((e as Error)?.message).includes(includes)) {
      throw new assertNode.AssertionError({
        message: `expected error message to include "${includes}", got "${(e as Error)?.message}"`,
      });
    }
    return e as Error;
  }
  throw new assertNode.AssertionError({ message: "expected the function to throw" });
}

export async function assertRejects(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  errorClass?: new (...args: any[]) => Error,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (errorClass && !(e instanceof errorClass)) {
      throw new assertNode.AssertionError({
        message: `expected ${errorClass.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`,
      });
    }
    if (includes && !String((e as Error)?.message).includes(includes)) {
      throw new assertNode.AssertionError({
        message: `expected error message to include "${includes}", got "${(e as Error)?.message}"`,
      });
    }
    return e as Error;
  }
  throw new assertNode.AssertionError({ message: "expected the promise to reject" });
}
