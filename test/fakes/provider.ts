import type { Gate } from './gate.js';
import type { Fault } from './http-fake.js';

/** A message a fake provider accepted. */
export interface Received {
  to: string;
  text: string;
  subject?: string;
  html?: string;
  /** Idempotency token / Message-ID the client sent, when the channel has one. */
  idempotencyKey?: string;
}

/**
 * The shape every loopback fake provider shares, so one contract suite can drive them all.
 * Its gate (`hold`, `release`, `held`, `until`) keeps sends in flight for as long as a test
 * needs and tells it when the fake has them.
 */
export interface ProviderFake extends Gate {
  /** Environment variables that point the real SDK at this fake, with valid credentials. */
  env: Record<string, string>;
  /** Messages accepted, in arrival order (duplicates included, so tests can count them). */
  messages: Received[];
  /** Send requests seen, accepted or not. */
  sendAttempts(): number;
  /** The next sends fail with these faults, in order. */
  fail(...faults: Fault[]): void;
  /** Every send to this address fails with this fault. */
  failFor(address: string, fault: Fault): void;
  /** Delay every answer by this long. To keep sends in flight, `hold()` them: a delay races the client. */
  latencyMs: number;
  close(): Promise<void>;
}
