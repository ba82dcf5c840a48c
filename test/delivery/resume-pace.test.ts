/**
 * A resume goes at the pace its run was started with (the flags are kept in the run
 * record), and flags given to the resume change it: after a crash at 3 a.m. the rest must
 * not go at the defaults when the lead had slowed SMS for a carrier's limit.
 */
import { describe, expect, it } from 'vitest';
import { givenTuning, parseTuning, resumeTuning } from '../../src/commands/tuning.js';

describe('the pace of a resume', () => {
  const run = givenTuning({ rate: ['sms=5'], concurrency: ['sms=2,email=1'], maxAttempts: '3' });

  it('keeps only the flags given, in the run record', () => {
    expect(givenTuning({})).toBeUndefined();
    expect(run).toEqual({ rate: ['sms=5'], concurrency: ['sms=2,email=1'], maxAttempts: '3' });
  });

  it('is the run\'s own, and a channel named again (or all=) takes the resume\'s value', () => {
    const kept = parseTuning(resumeTuning(run, {}));
    expect(kept.limits.sms).toMatchObject({ perSecond: 5, concurrency: 2 });
    expect(kept.limits.email?.concurrency).toBe(1);
    expect(kept.retry.maxAttempts).toBe(3);

    const changed = parseTuning(resumeTuning(run, { rate: ['sms=7'], maxAttempts: '5' }));
    expect(changed.limits.sms).toMatchObject({ perSecond: 7, concurrency: 2 });
    expect(changed.retry.maxAttempts).toBe(5);
    expect(parseTuning(resumeTuning(run, { rate: ['all=off'] })).limits.sms?.perSecond).toBeUndefined();
  });

  it('is the defaults for a run started without pace flags (journals from before included)', () => {
    expect(parseTuning(resumeTuning(undefined, {}))).toEqual(parseTuning({}));
  });
});
