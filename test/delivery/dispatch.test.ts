/**
 * dispatch() with inline fake transports (no SDK, no socket): the order `--strategy first`
 * tries channels in, the path each delivery takes as the journal records it, retries,
 * time limits, and what stopping (Ctrl-C) does to queued, in-flight and backing-off sends.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/core/delivery-errors.js';
import type { Transport } from '../../src/core/channel.js';
import { dispatch, type ChannelLimits, type DispatchOptions, type Outcome, type Strategy } from '../../src/core/dispatch.js';
import { Journal, type JournalEntry } from '../../src/core/journal.js';
import type { Delivery } from '../../src/core/plan.js';
import type { RetryPolicy } from '../../src/core/retry.js';
import type { ChannelName, Receipt } from '../../src/core/types.js';
import { tempDir } from '../helpers/cli.js';
import { pathOf } from './helpers.js';

const FAST: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, attemptTimeoutMs: 5_000 };
const OPEN: Record<ChannelName, ChannelLimits> = {
  sms: { concurrency: 4 }, email: { concurrency: 4 }, slack: { concurrency: 4 }, telegram: { concurrency: 4 },
};
const PRIORITY: ChannelName[] = ['sms', 'telegram', 'slack', 'email'];
const FIRST: Strategy = { kind: 'first', priority: PRIORITY };
const ALL: Strategy = { kind: 'all' };

function delivery(person: string, channel: ChannelName): Delivery {
  const id = `${person}/${channel}`;
  return {
    id, channel, template: `${channel}.hbs`, locale: 'fr', contact: { key: person, name: person },
    message: { deliveryId: id, channel, to: `${person}@${channel}`, text: `hello ${person}` },
  };
}

/** What a send does: succeed, throw, or anything async (hang until aborted…). */
type Step = 'ok' | Error | ((signal: AbortSignal) => Promise<Receipt>);

/** Scripted transports: each delivery id plays its steps in order, then succeeds. */
function scripted(script: Record<string, Step[]> = {}) {
  const calls: string[] = [];
  const transport = async (_channel: ChannelName): Promise<Transport> => ({
    async send(message, signal) {
      calls.push(message.deliveryId);
      const step = script[message.deliveryId]?.shift() ?? 'ok';
      if (step === 'ok') return { providerId: `${message.deliveryId}#${calls.length}` };
      if (step instanceof Error) throw step;
      return step(signal);
    },
    async verify() {},
    async close() {},
  });
  return { calls, transport };
}

const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    const fail = () => reject(new RetryableError('no answer within the time limit; the message may or may not have been sent', 'timeout', undefined, true));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });

interface Run {
  outcomes: Map<string, Outcome>;
  records: JournalEntry[];
  journal: Journal;
}

async function run(deliveries: Delivery[], strategy: Strategy, options: Partial<DispatchOptions> & Pick<DispatchOptions, 'transport'>): Promise<Run> {
  const journal = new Journal(join(tempDir('notify-dispatch-'), 'run.jsonl'));
  for (const d of deliveries) journal.append({ kind: 'planned', ...d });
  const outcomes = await dispatch(deliveries, strategy, {
    journal, retry: FAST, limits: OPEN, stop: new AbortController().signal, graceMs: 1_000, ...options,
  });
  journal.close();
  const records = readFileSync(journal.path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as JournalEntry);
  return { outcomes, records, journal };
}

const permanent = (what: string) => new PermanentError(`${what} refused this address`);
const temporary = (what: string) => new RetryableError(`${what} is unavailable for now`, '503');

describe('--strategy first: channels in priority order until one delivers', () => {
  // Planned in the CLI's channel order; the priority decides the order tried.
  const ana = (['sms', 'email', 'slack', 'telegram'] as const).map((c) => delivery('ana', c));

  it('falls back from a permanently failing SMS to Telegram and skips the rest; the journal shows the path', async () => {
    const { calls, transport } = scripted({ 'ana/sms': [permanent('Twilio')] });
    const { records, outcomes, journal } = await run(ana, FIRST, { transport });

    expect(calls).toEqual(['ana/sms', 'ana/telegram']);
    expect(pathOf(records, 'ana/sms')).toEqual(['attempting#1', 'failed#1 final']);
    expect(pathOf(records, 'ana/telegram')).toEqual(['attempting#1', 'delivered#1']);
    expect(pathOf(records, 'ana/slack')).toEqual(['skipped']);
    expect(pathOf(records, 'ana/email')).toEqual(['skipped']);
    // In time, too: the fallback starts only after the SMS failed; the skips come after delivery.
    const order = records.filter((r) => r.kind !== 'planned').map((r) => `${r.kind} ${'id' in r ? r.id : ''}`);
    expect(order).toEqual([
      'attempting ana/sms', 'failed ana/sms', 'attempting ana/telegram', 'delivered ana/telegram', 'skipped ana/slack', 'skipped ana/email',
    ]);
    expect(records.find((r) => r.kind === 'skipped' && r.id === 'ana/slack')).toMatchObject({ reason: 'already reached by telegram' });
    expect(outcomes.get('ana/sms')).toMatchObject({ status: 'failed', reason: 'Twilio refused this address' });
    expect(outcomes.get('ana/telegram')).toMatchObject({ status: 'delivered' });
    expect(outcomes.has('ana/slack')).toBe(false); // never handed to a channel
    const states = journal.state.states;
    expect([...states.values()].map((s) => `${s.delivery.channel}:${s.status}`)).toEqual(['sms:failed', 'email:skipped', 'slack:skipped', 'telegram:delivered']);
  });

  it('falls back when retries are exhausted, after exactly maxAttempts tries', async () => {
    const { calls, transport } = scripted({ 'ana/sms': [temporary('Twilio'), temporary('Twilio'), temporary('Twilio')] });
    const { records } = await run(ana, FIRST, { transport });
    expect(calls).toEqual(['ana/sms', 'ana/sms', 'ana/sms', 'ana/telegram']);
    expect(pathOf(records, 'ana/sms')).toEqual(['attempting#1', 'failed#1', 'attempting#2', 'failed#2', 'attempting#3', 'failed#3 final']);
    expect(pathOf(records, 'ana/telegram')).toEqual(['attempting#1', 'delivered#1']);
  });

  it('does not fall back while a retry can still succeed', async () => {
    const { calls, transport } = scripted({ 'ana/sms': [temporary('Twilio'), temporary('Twilio')] });
    const { records } = await run(ana, FIRST, { transport });
    expect(calls).toEqual(['ana/sms', 'ana/sms', 'ana/sms']);
    expect(pathOf(records, 'ana/sms')).toEqual(['attempting#1', 'failed#1', 'attempting#2', 'failed#2', 'attempting#3', 'delivered#3']);
    for (const c of ['telegram', 'slack', 'email']) expect(pathOf(records, `ana/${c}`)).toEqual(['skipped']);
  });

  it('walks the whole chain when every channel fails, and records every failure', async () => {
    const { calls, transport } = scripted(Object.fromEntries(ana.map((d) => [d.id, [permanent(d.channel)]])));
    const { records, journal } = await run(ana, FIRST, { transport });
    expect(calls).toEqual(['ana/sms', 'ana/telegram', 'ana/slack', 'ana/email']);
    expect(records.some((r) => r.kind === 'skipped')).toBe(false);
    expect([...journal.state.states.values()].every((s) => s.status === 'failed' && s.reason === `${s.delivery.channel} refused this address`)).toBe(true);
  });

  it('follows a custom priority; channels missing from it come last', async () => {
    const { calls, transport } = scripted({ 'ana/email': [permanent('mail')], 'ana/sms': [permanent('Twilio')] });
    await run(ana, { kind: 'first', priority: ['email', 'sms'] }, { transport });
    // email, sms, then the unlisted ones in plan order (slack before telegram).
    expect(calls).toEqual(['ana/email', 'ana/sms', 'ana/slack']);
  });

  it('runs each person’s chain independently: one person’s fallback does not hold up another', async () => {
    const bob = [delivery('bob', 'sms'), delivery('bob', 'email')];
    const { calls, transport } = scripted({ 'ana/sms': [permanent('Twilio')] });
    const { records } = await run([...ana, ...bob], FIRST, { transport });
    expect(calls.filter((c) => c.startsWith('bob/'))).toEqual(['bob/sms']);
    expect(pathOf(records, 'bob/email')).toEqual(['skipped']);
    expect(pathOf(records, 'ana/telegram')).toEqual(['attempting#1', 'delivered#1']);
  });

  it('a stopped run leaves the rest of the chain pending, neither tried nor skipped', async () => {
    const stop = new AbortController();
    const { calls, transport } = scripted({
      'ana/sms': [async () => {
        stop.abort(); // Ctrl-C while the SMS is in flight; it then fails for good
        throw permanent('Twilio');
      }],
    });
    const { records, outcomes, journal } = await run(ana, FIRST, { transport, stop: stop.signal });
    expect(calls).toEqual(['ana/sms']);
    expect(outcomes.get('ana/telegram')).toEqual({ status: 'interrupted' });
    for (const c of ['telegram', 'slack', 'email']) {
      expect(pathOf(records, `ana/${c}`)).toEqual([]);
      expect(journal.state.states.get(`ana/${c}`)?.status).toBe('pending');
    }
  });
});

describe('--strategy all: every delivery ends delivered once or failed with its reason', () => {
  it('retries temporary failures, never permanent ones, and records each attempt', async () => {
    const ds = ['a', 'b', 'c', 'd'].map((p) => delivery(p, 'sms'));
    const { calls, transport } = scripted({
      'a/sms': [temporary('Twilio')],
      'b/sms': [permanent('Twilio')],
      'c/sms': [temporary('Twilio'), temporary('Twilio'), temporary('Twilio'), temporary('Twilio')],
    });
    const { records, outcomes } = await run(ds, ALL, { transport });
    expect(calls.filter((c) => c === 'a/sms')).toHaveLength(2);
    expect(calls.filter((c) => c === 'b/sms')).toHaveLength(1);
    expect(calls.filter((c) => c === 'c/sms')).toHaveLength(FAST.maxAttempts);
    expect(calls.filter((c) => c === 'd/sms')).toHaveLength(1);
    expect(pathOf(records, 'a/sms')).toEqual(['attempting#1', 'failed#1', 'attempting#2', 'delivered#2']);
    expect(pathOf(records, 'b/sms')).toEqual(['attempting#1', 'failed#1 final']);
    expect(pathOf(records, 'c/sms')).toEqual(['attempting#1', 'failed#1', 'attempting#2', 'failed#2', 'attempting#3', 'failed#3 final']);
    expect(records.find((r) => r.kind === 'failed' && r.id === 'b/sms')).toMatchObject({ retryable: false, reason: 'Twilio refused this address' });
    expect(records.find((r) => r.kind === 'failed' && r.id === 'c/sms' && r.final)).toMatchObject({ retryable: true, reason: 'Twilio is unavailable for now' });
    expect(Object.fromEntries([...outcomes].map(([id, o]) => [id, o.status]))).toEqual({
      'a/sms': 'delivered', 'b/sms': 'failed', 'c/sms': 'failed', 'd/sms': 'delivered',
    });
  });

  it('an attempt past its time limit is aborted, marked outcome-unknown and retried; the delivery may be duplicated', async () => {
    const { calls, transport } = scripted({ 'a/email': [untilAborted] });
    const { records, journal } = await run([delivery('a', 'email')], ALL, { transport, retry: { ...FAST, attemptTimeoutMs: 30 } });
    expect(calls).toEqual(['a/email', 'a/email']);
    expect(records.find((r) => r.kind === 'failed')).toMatchObject({ attempt: 1, final: false, outcomeUnknown: true });
    expect(journal.state.states.get('a/email')).toMatchObject({ status: 'delivered', uncertain: true, mayBeDuplicated: true });
  });

  it("a channel's own time limit (a call rings, then speaks) replaces the policy's for that channel only", async () => {
    // The policy's limit is far longer than the test may run: only the channel's can end the attempt.
    const { calls, transport } = scripted({ 'a/voice': [untilAborted] });
    const limits = { ...OPEN, voice: { concurrency: 1, attemptTimeoutMs: 30 } };
    const { records } = await run([delivery('a', 'voice')], ALL, { transport, limits, retry: { ...FAST, attemptTimeoutMs: 3_600_000 } });
    expect(calls).toEqual(['a/voice', 'a/voice']);
    expect(records.find((r) => r.kind === 'failed')).toMatchObject({ attempt: 1, outcomeUnknown: true });
  });

  it('treats an unclassified exception as retryable with an unknown outcome', async () => {
    const { calls, transport } = scripted({ 'a/slack': [new TypeError('socket hang up')] });
    const { records, journal } = await run([delivery('a', 'slack')], ALL, { transport });
    expect(calls).toHaveLength(2);
    expect(records.find((r) => r.kind === 'failed')).toMatchObject({ reason: 'unexpected error: socket hang up', outcomeUnknown: true });
    expect(journal.state.states.get('a/slack')?.mayBeDuplicated).toBe(true);
  });

  it('a resumed delivery continues its attempt numbers with a fresh retry budget', async () => {
    const { calls, transport } = scripted({ 'a/sms': [temporary('Twilio'), temporary('Twilio')] });
    const { records } = await run([delivery('a', 'sms')], ALL, { transport, previousAttempts: new Map([['a/sms', 2]]) });
    expect(calls).toHaveLength(3);
    expect(pathOf(records, 'a/sms')).toEqual(['attempting#3', 'failed#3', 'attempting#4', 'failed#4', 'attempting#5', 'delivered#5']);
  });

  it('respects the per-channel concurrency', async () => {
    let inFlight = 0;
    let most = 0;
    const slow = async (): Promise<Receipt> => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { providerId: 'x' };
    };
    const ds = Array.from({ length: 12 }, (_, i) => delivery(`p${i}`, 'telegram'));
    const { transport } = scripted(Object.fromEntries(ds.map((d) => [d.id, [slow]])));
    await run(ds, ALL, { transport, limits: { ...OPEN, telegram: { concurrency: 3 } } });
    expect(most).toBe(3);
  });

  it('loading the SDK does not count against the first attempt’s time limit', async () => {
    const { calls, transport } = scripted({
      'a/sms': [async (signal) => {
        if (signal.aborted) throw new RetryableError('not sent: the time limit ran out before the request started', 'aborted');
        return { providerId: 'SM-a' };
      }],
    });
    const slowToLoad = async (channel: ChannelName) => {
      await new Promise((r) => setTimeout(r, 60)); // a busy machine importing twilio
      return transport(channel);
    };
    const { records } = await run([delivery('a', 'sms')], ALL, { transport: slowToLoad, retry: { ...FAST, attemptTimeoutMs: 20 } });
    expect(calls).toEqual(['a/sms']);
    expect(pathOf(records, 'a/sms')).toEqual(['attempting#1', 'delivered#1']);
  });

  it('a streamed channel reads its messages once its transport is ready, not while its SDK loads', async () => {
    const { transport } = scripted();
    let loaded!: () => void;
    const loading = new Promise<void>((resolve) => (loaded = resolve));
    const connects: ChannelName[] = [];
    const slowSlack = async (channel: ChannelName) => {
      connects.push(channel);
      if (channel === 'slack') await loading;
      return transport(channel);
    };
    const read: string[] = [];
    function* stream(channel: ChannelName) {
      for (const person of ['a', 'b']) {
        read.push(`${person}/${channel}`);
        yield delivery(person, channel);
      }
    }
    let readWhileLoading: string[] = [];
    const onProgress: DispatchOptions['onProgress'] = (event) => {
      if (event.channel !== 'sms' || readWhileLoading.length > 0) return;
      readWhileLoading = [...read];
      loaded();
    };
    const journal = new Journal(join(tempDir('notify-dispatch-'), 'run.jsonl'));
    for (const d of ['a', 'b'].flatMap((p) => [delivery(p, 'sms'), delivery(p, 'slack')])) journal.append({ kind: 'planned', ...d });
    await dispatch(new Map([['sms', stream('sms')], ['slack', stream('slack')]]), ALL, {
      journal, retry: FAST, limits: OPEN, stop: new AbortController().signal, graceMs: 1_000, transport: slowSlack, onProgress,
    });
    journal.close();
    expect(readWhileLoading.filter((id) => id.endsWith('/slack'))).toEqual([]);
    expect(journal.state.states.get('b/slack')?.status).toBe('delivered');
    expect(connects).toEqual(['sms', 'slack']); // asked for by the stream and by the queue, loaded once
  });

  it('a channel whose SDK cannot be loaded fails its own deliveries at once, with the reason, and no one else’s', async () => {
    const { transport } = scripted();
    let loads = 0;
    const broken = (channel: ChannelName) => {
      if (channel !== 'slack') return transport(channel);
      loads++;
      return Promise.reject(new Error('Cannot find package @slack/web-api'));
    };
    const ds = [delivery('a', 'slack'), delivery('b', 'slack'), delivery('a', 'sms')];
    const { outcomes, records } = await run(ds, ALL, { transport: broken });
    const reason = 'the slack channel could not start: Cannot find package @slack/web-api';
    expect(outcomes.get('a/slack')).toEqual({ status: 'failed', reason });
    expect(outcomes.get('b/slack')).toEqual({ status: 'failed', reason });
    expect(pathOf(records, 'a/slack')).toEqual(['attempting#1', 'failed#1 final']); // no pointless retries
    expect(records.find((r) => r.kind === 'failed' && r.id === 'a/slack')).not.toHaveProperty('outcomeUnknown'); // nothing left
    expect(loads).toBe(1);
    expect(outcomes.get('a/sms')?.status).toBe('delivered');
  });

  it('a channel that refuses to start with a classified error keeps that error', async () => {
    const { transport } = scripted();
    const bad = (channel: ChannelName) =>
      channel === 'sms' ? Promise.reject(new PermanentError('TWILIO_ACCOUNT_SID must start with AC')) : transport(channel);
    const { outcomes } = await run([delivery('a', 'sms')], FIRST, { transport: bad });
    expect(outcomes.get('a/sms')).toEqual({ status: 'failed', reason: 'TWILIO_ACCOUNT_SID must start with AC' });
  });
});

describe('the journal on disk at the moment a request leaves', () => {
  it('holds the attempt\'s own "attempting" record, and every outcome that came back before it', async () => {
    // Many sends in flight on every channel, some retried, so records of several deliveries share a turn.
    const ds = Array.from({ length: 12 }, (_, i) => (['sms', 'email', 'slack', 'telegram'] as const).map((c) => delivery(`p${i}`, c))).flat();
    const script: Record<string, Step[]> = { 'p1/sms': [temporary('Twilio')], 'p2/slack': [temporary('Slack'), temporary('Slack')] };
    let path = '';
    let answered: string[] = []; // outcomes reported to the dispatcher so far, as `kind id#attempt`
    const seen: { call: string; missing: string[] }[] = [];
    const transport = async (): Promise<Transport> => ({
      async send(message) {
        const attempt = (seen.filter((s) => s.call.startsWith(`${message.deliveryId}#`)).length + 1);
        const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as JournalEntry);
        const onDisk = new Set(lines.map((r) => `${r.kind} ${'id' in r ? r.id : ''}#${'attempt' in r ? r.attempt : ''}`));
        const expected = [`attempting ${message.deliveryId}#${attempt}`, ...answered];
        seen.push({ call: `${message.deliveryId}#${attempt}`, missing: expected.filter((e) => !onDisk.has(e)) });
        await new Promise((resolve) => setImmediate(resolve)); // the answer comes in a later turn
        const step = script[message.deliveryId]?.shift();
        const outcome = step instanceof Error ? 'failed' : 'delivered';
        answered = [...answered, `${outcome} ${message.deliveryId}#${attempt}`];
        if (step instanceof Error) throw step;
        return { providerId: `${message.deliveryId}#${attempt}` };
      },
      async verify() {},
      async close() {},
    });
    const journal = new Journal(join(tempDir('notify-dispatch-'), 'run.jsonl'));
    path = journal.path;
    for (const d of ds) journal.append({ kind: 'planned', ...d });
    await dispatch(ds, ALL, { journal, retry: FAST, limits: OPEN, stop: new AbortController().signal, graceMs: 1_000, transport });
    journal.close();
    expect(seen).toHaveLength(ds.length + 3);
    expect(seen.filter((s) => s.missing.length > 0)).toEqual([]);
  });
});

describe('stopping (Ctrl-C): start nothing new, let in-flight sends finish within the grace period', () => {
  it('lets the send in flight finish and starts no other', async () => {
    const stop = new AbortController();
    const ds = ['a', 'b', 'c'].map((p) => delivery(p, 'sms'));
    const { calls, transport } = scripted({
      'a/sms': [async () => {
        stop.abort();
        await new Promise((r) => setTimeout(r, 20)); // still finishing after the signal
        return { providerId: 'SM-a' };
      }],
    });
    const { outcomes, journal } = await run(ds, ALL, { transport, stop: stop.signal, limits: { ...OPEN, sms: { concurrency: 1 } } });
    expect(calls).toEqual(['a/sms']);
    expect(outcomes.get('a/sms')).toMatchObject({ status: 'delivered' });
    expect(outcomes.get('b/sms')).toEqual({ status: 'interrupted' });
    expect(journal.state.states.get('b/sms')).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('cuts off a send still running at the end of the grace period, as outcome-unknown and not final', async () => {
    const stop = new AbortController();
    const { transport } = scripted({ 'a/sms': [(signal) => (stop.abort(), untilAborted(signal))] });
    const { records, outcomes, journal } = await run([delivery('a', 'sms')], ALL, { transport, stop: stop.signal, graceMs: 20 });
    expect(outcomes.get('a/sms')).toEqual({ status: 'interrupted' });
    expect(records.find((r) => r.kind === 'failed')).toMatchObject({ final: false, outcomeUnknown: true });
    expect(journal.state.states.get('a/sms')).toMatchObject({ status: 'pending', uncertain: true });
  });

  it('does not sit out a retry delay once stopped (a Retry-After of an hour)', { timeout: 5_000 }, async () => {
    const stop = new AbortController();
    const { calls, transport } = scripted({
      'a/sms': [async () => {
        stop.abort(); // Ctrl-C during the send, which then comes back "try again in an hour"
        throw new RetryableError('Twilio is limiting the sending rate', '429', 3_600_000);
      }],
    });
    const { outcomes, journal } = await run([delivery('a', 'sms')], ALL, { transport, stop: stop.signal, retry: { ...FAST, maxDelayMs: 3_600_000 } });
    expect(calls).toEqual(['a/sms']);
    expect(outcomes.get('a/sms')).toEqual({ status: 'interrupted' });
    expect(journal.state.states.get('a/sms')?.status).toBe('pending');
  });

  it('a channel still loading its SDK when stopped records no attempt: its messages stay planned', async () => {
    const stop = new AbortController();
    const { calls, transport } = scripted();
    let loaded!: () => void;
    const loading = new Promise<void>((resolve) => (loaded = resolve));
    const slowSlack = async (channel: ChannelName) => {
      if (channel === 'slack') await loading; // Ctrl-C comes while @slack/web-api loads
      return transport(channel);
    };
    const onProgress: DispatchOptions['onProgress'] = (event) => {
      if (event.channel !== 'sms') return;
      stop.abort();
      loaded();
    };
    const ds = [delivery('a', 'sms'), delivery('a', 'slack'), delivery('b', 'slack')];
    const { outcomes, records, journal } = await run(ds, ALL, { transport: slowSlack, stop: stop.signal, onProgress });
    expect(calls).toEqual(['a/sms']);
    expect(outcomes.get('a/slack')).toEqual({ status: 'interrupted' });
    expect(pathOf(records, 'a/slack')).toEqual([]); // not "attempting": resume sends it, not marked as a possible duplicate
    expect(journal.state.states.get('b/slack')).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('a stop during a retry delay ends the wait and starts no new attempt', { timeout: 5_000 }, async () => {
    const stop = new AbortController();
    const { calls, transport } = scripted({ 'a/sms': [new RetryableError('slow down', '429', 3_600_000)] });
    // 'retrying' is reported just before the wait starts: the stop lands once it has.
    const onProgress: DispatchOptions['onProgress'] = (event) => {
      if (event.status === 'retrying') queueMicrotask(() => stop.abort());
    };
    const { outcomes } = await run([delivery('a', 'sms')], ALL, { transport, stop: stop.signal, onProgress });
    expect(calls).toEqual(['a/sms']);
    expect(outcomes.get('a/sms')).toEqual({ status: 'interrupted' });
  });
});

describe('a channel the provider refuses as a whole', () => {
  it('fails the rest of that channel at once, with the reason, without sending; other channels go on', async () => {
    const people = ['a', 'b', 'c', 'd'];
    const deliveries = people.flatMap((p) => [delivery(p, 'slack'), delivery(p, 'email')]);
    const badToken = new PermanentError('Slack rejected the bot token: check SLACK_BOT_TOKEN', 'invalid_auth', true);
    const { calls, transport } = scripted({ 'a/slack': [badToken] });
    const oneAtATime = { ...OPEN, slack: { concurrency: 1 } };
    const { outcomes } = await run(deliveries, ALL, { transport, limits: oneAtATime });
    expect(calls.filter((id) => id.endsWith('/slack'))).toEqual(['a/slack']);
    for (const p of ['b', 'c', 'd']) {
      expect(outcomes.get(`${p}/slack`)).toEqual({ status: 'failed', reason: 'not sent: Slack rejected the bot token: check SLACK_BOT_TOKEN' });
    }
    for (const p of people) expect(outcomes.get(`${p}/email`)?.status).toBe('delivered');
  });

  it('an address-level refusal does not stop the channel', async () => {
    const deliveries = ['a', 'b'].map((p) => delivery(p, 'slack'));
    const { calls, transport } = scripted({ 'a/slack': [permanent('Slack')] });
    await run(deliveries, ALL, { transport, limits: { ...OPEN, slack: { concurrency: 1 } } });
    expect(calls).toEqual(['a/slack', 'b/slack']);
  });
});
