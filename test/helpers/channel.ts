/** Small helpers shared by the channel tests. */
import { createServer } from 'node:net';
import { expect } from 'vitest';
import type { PermanentError, RetryableError } from '../../src/core/delivery-errors.js';

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<PermanentError | RetryableError> {
  const result = await promise.then(() => undefined, (err: unknown) => err);
  expect(result).toBeInstanceOf(Error);
  return result as PermanentError | RetryableError;
}

/** A 127.0.0.1 port nothing listens on (it was just free), for "unreachable host" cases. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
