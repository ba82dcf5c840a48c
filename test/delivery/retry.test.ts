/**
 * The retry decision as a table: which failures are tried again, after how long. The
 * jitter is injected (`random`), so every row is exact.
 */
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/core/delivery-errors.js';
import { classify, DEFAULT_RETRY, retryDelay, type FailureFacts, type RetryPolicy } from '../../src/core/retry.js';

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 30_000, attemptTimeoutMs: 20_000 };
const temporary: FailureFacts = { retryable: true, reason: 'Twilio had a server error (HTTP 503)', outcomeUnknown: false };
const throttled = (retryAfterMs: number): FailureFacts => ({ ...temporary, retryAfterMs });
const permanent: FailureFacts = { retryable: false, reason: 'the number is not valid', outcomeUnknown: false };
const top = () => 0.999999;
const half = () => 0.5;
const bottom = () => 0;

describe('retryDelay: exponential backoff with full jitter, never below Retry-After, bounded', () => {
  it.each<[string, FailureFacts, number, () => number, RetryPolicy, number | undefined]>([
    // name                                           facts            attempt random  policy  expected ms (≈)
    ['attempt 1: up to the base delay', temporary, 1, top, policy, 500],
    ['attempt 2: up to twice the base', temporary, 2, top, policy, 1000],
    ['attempt 3: up to four times the base', temporary, 3, top, policy, 2000],
    ['full jitter: half the ceiling', temporary, 3, half, policy, 1000],
    ['full jitter: may be immediate', temporary, 2, bottom, policy, 0],
    ['the ceiling stops at maxDelayMs', temporary, 12, top, { ...policy, maxAttempts: 20 }, 30_000],
    ['Retry-After above the backoff wins', throttled(1000), 1, top, policy, 1000],
    ['Retry-After wins even when the jitter is zero', throttled(1000), 3, bottom, policy, 1000],
    ['a backoff above Retry-After is kept', throttled(1000), 3, top, policy, 2000],
    ['Retry-After beyond maxDelayMs is still honoured', throttled(60_000), 1, top, policy, 60_000],
    ['the last attempt gives up', temporary, 4, top, policy, undefined],
    ['Retry-After does not buy an extra attempt', throttled(1000), 4, top, policy, undefined],
    ['past the budget gives up', temporary, 9, top, policy, undefined],
    ['a permanent error is never retried', permanent, 1, top, policy, undefined],
    ['a single-attempt policy never retries', temporary, 1, top, { ...policy, maxAttempts: 1 }, undefined],
  ])('%s', (_name, facts, attempt, random, p, expected) => {
    const wait = retryDelay(facts, attempt, p, random);
    if (expected === undefined) expect(wait).toBeUndefined();
    else expect(wait).toBeCloseTo(expected, -1);
  });

  it('never waits less than Retry-After, whatever the jitter', () => {
    for (let attempt = 1; attempt < policy.maxAttempts; attempt++) {
      for (const r of [0, 0.1, 0.5, 0.9, 0.999]) {
        expect(retryDelay(throttled(1500), attempt, policy, () => r)).toBeGreaterThanOrEqual(1500);
        expect(retryDelay(temporary, attempt, policy, () => r)).toBeLessThanOrEqual(policy.baseDelayMs * 2 ** (attempt - 1));
      }
    }
  });

  it('defaults: 4 attempts, 500 ms base, 30 s ceiling, 20 s per attempt', () => {
    expect(DEFAULT_RETRY).toEqual({ maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 30_000, attemptTimeoutMs: 20_000 });
  });
});

describe('classify: what a thrown value means', () => {
  it.each<[string, unknown, Partial<FailureFacts>]>([
    ['a permanent error is final, outcome known', new PermanentError('chat not found'), { retryable: false, reason: 'chat not found', outcomeUnknown: false }],
    ['a refused request is retried, outcome known', new RetryableError('HTTP 503', '503'), { retryable: true, outcomeUnknown: false }],
    ['Retry-After is carried over', new RetryableError('slow down', '429', 1000), { retryable: true, retryAfterMs: 1000 }],
    ['a timeout is retried, outcome unknown', new RetryableError('no answer', 'timeout', undefined, true), { retryable: true, outcomeUnknown: true }],
    ['an unclassified Error: retried, outcome unknown', new TypeError('boom'), { retryable: true, outcomeUnknown: true, reason: 'unexpected error: boom' }],
    ['a thrown string: retried, outcome unknown', 'weird', { retryable: true, outcomeUnknown: true, reason: 'unexpected error: weird' }],
  ])('%s', (_name, thrown, expected) => {
    expect(classify(thrown)).toMatchObject(expected);
  });

  it('leaves retryAfterMs out when the provider gave none', () => {
    expect(classify(new RetryableError('HTTP 500'))).not.toHaveProperty('retryAfterMs');
  });
});
