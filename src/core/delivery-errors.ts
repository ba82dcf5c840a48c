/**
 * The two decisions the dispatcher makes about a failed send, one class each.
 * `reason` is one line a crisis lead understands; it never contains a secret.
 */
export class PermanentError extends Error {
  readonly retryable = false;
  constructor(
    reason: string,
    readonly code?: string,
    /** Nobody can be reached on this channel (rejected credentials, refused sender): stop trying. */
    readonly channelWide = false,
  ) {
    super(reason);
    this.name = 'PermanentError';
  }
}

export class RetryableError extends Error {
  readonly retryable = true;
  constructor(
    reason: string,
    readonly code?: string,
    /** Provider-requested wait (Retry-After), when it gave one. */
    readonly retryAfterMs?: number,
    /** True when the request may have reached the provider (timeout, reset after sending). */
    readonly outcomeUnknown = false,
  ) {
    super(reason);
    this.name = 'RetryableError';
  }
}

export type DeliveryError = PermanentError | RetryableError;
