/**
 * The one place that decides whether a failed attempt is tried again, and when.
 * Exponential backoff with full jitter, never shorter than the provider's Retry-After.
 */
import { PermanentError, RetryableError } from './delivery-errors.js';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-attempt time limit; past it the outcome is unknown and the attempt is retried. */
  attemptTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 30_000, attemptTimeoutMs: 20_000 };

export interface FailureFacts {
  retryable: boolean;
  reason: string;
  retryAfterMs?: number;
  outcomeUnknown: boolean;
  /** The whole channel is unusable (see PermanentError.channelWide). */
  channelWide?: boolean;
}

/** What a thrown value means. Anything unclassified is treated as retryable with an unknown outcome: losing a message is worse than a rare duplicate. */
export function classify(error: unknown): FailureFacts {
  if (error instanceof PermanentError) {
    return { retryable: false, reason: error.message, outcomeUnknown: false, ...(error.channelWide && { channelWide: true }) };
  }
  if (error instanceof RetryableError) {
    return {
      retryable: true, reason: error.message, outcomeUnknown: error.outcomeUnknown,
      ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { retryable: true, reason: `unexpected error: ${message}`, outcomeUnknown: true };
}

/** Milliseconds to wait before attempt `attempt + 1`, or undefined to give up. */
export function retryDelay(facts: FailureFacts, attempt: number, policy: RetryPolicy, random = Math.random): number | undefined {
  if (!facts.retryable || attempt >= policy.maxAttempts) return undefined;
  const backoff = random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.max(backoff, facts.retryAfterMs ?? 0);
}
