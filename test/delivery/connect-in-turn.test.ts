/**
 * connectInTurn(): channels load their SDKs one at a time, so the first channel sends
 * without waiting for the others; the next loads once the one before has been answered.
 */
import { describe, expect, it } from 'vitest';
import { connectInTurn } from '../../src/commands/connect-in-turn.js';
import { connectOrder } from '../../src/commands/execute.js';
import type { ChannelName } from '../../src/core/types.js';

/** Connections that log when each starts and can be finished (or failed) by the test. */
function loader() {
  const started: ChannelName[] = [];
  const finish = new Map<ChannelName, { ok: () => void; fail: (error: Error) => void }>();
  const connect = (channel: ChannelName) => {
    started.push(channel);
    return new Promise<string>((resolve, reject) => finish.set(channel, { ok: () => resolve(`${channel} transport`), fail: reject }));
  };
  return { started, finish: (channel: ChannelName) => finish.get(channel)!, connect };
}

const turns = () => new Promise((resolve) => setImmediate(resolve));

describe('connectInTurn', () => {
  it('loads the first channel at once and the next only once the first is ready and answered', async () => {
    const { started, finish, connect } = loader();
    const connections = connectInTurn(['telegram', 'email', 'sms'], connect);
    await turns();
    expect(started).toEqual(['telegram']);
    finish('telegram').ok();
    await expect(connections.transport('telegram')).resolves.toBe('telegram transport');
    await turns();
    expect(started).toEqual(['telegram']); // its first message is still on its way
    connections.answered('telegram');
    await turns();
    expect(started).toEqual(['telegram', 'email']);
  });

  it('a channel that cannot start does not hold up the next', async () => {
    const { started, finish, connect } = loader();
    const connections = connectInTurn(['slack', 'sms'], connect);
    await turns();
    finish('slack').fail(new Error('Cannot find package @slack/web-api'));
    await expect(connections.transport('slack')).rejects.toThrow('@slack/web-api');
    await turns();
    expect(started).toEqual(['slack', 'sms']);
  });

  it('goes on without an answer from a slow provider', async () => {
    const { started, finish, connect } = loader();
    connectInTurn(['telegram', 'email'], connect);
    await turns();
    finish('telegram').ok();
    await expect.poll(() => started).toEqual(['telegram', 'email']);
  });

  it('once stopped, loads no channel still waiting for its turn', async () => {
    const { started, finish, connect } = loader();
    const stop = new AbortController();
    const connections = connectInTurn(['telegram', 'email'], connect, stop.signal);
    await turns();
    stop.abort();
    finish('telegram').ok();
    connections.answered('telegram');
    await expect(connections.transport('email')).rejects.toThrow('stopped before the email channel was loaded');
    expect(started).toEqual(['telegram']);
    expect(connections.all()).toHaveLength(2); // both are closed at the end
  });

  it('connects a channel outside the order on first use', async () => {
    const { started, finish, connect } = loader();
    const connections = connectInTurn([], connect);
    const transport = connections.transport('voice');
    expect(started).toEqual(['voice']);
    finish('voice').ok();
    await expect(transport).resolves.toBe('voice transport');
    expect(connections.transport('voice')).toBe(transport);
  });
});

describe('connectOrder', () => {
  const sixtyEach = new Map<ChannelName, number>([['sms', 60], ['email', 60], ['slack', 60], ['telegram', 60]]);

  it('without rates, the quickest SDK to load goes first, so messages start leaving while the others load', () => {
    const unpaced = { sms: { concurrency: 4 }, email: { concurrency: 3 }, slack: { concurrency: 2 }, telegram: { concurrency: 8 } };
    expect(connectOrder(sixtyEach, unpaced, { kind: 'all' })).toEqual(['telegram', 'email', 'slack', 'sms']);
  });

  it('a channel held to a rate goes first, the longest to send first: the run ends when it ends', () => {
    const paced = { sms: { concurrency: 4, perSecond: 10 }, email: { concurrency: 3 }, slack: { concurrency: 2, perSecond: 10 }, telegram: { concurrency: 8, perSecond: 20 } };
    // sms and slack need 6 s each (slack loads quicker), telegram 3 s; email has no rate and goes last.
    expect(connectOrder(sixtyEach, paced, { kind: 'all' })).toEqual(['slack', 'sms', 'telegram', 'email']);
    const fewerSms = new Map([...sixtyEach, ['sms', 5]]);
    expect(connectOrder(fewerSms, paced, { kind: 'all' })).toEqual(['slack', 'telegram', 'sms', 'email']);
  });

  it('with --strategy first, the --priority order whatever the rates', () => {
    const paced = { sms: { concurrency: 4, perSecond: 1 }, email: { concurrency: 3 }, slack: { concurrency: 2 }, telegram: { concurrency: 8 } };
    expect(connectOrder(sixtyEach, paced, { kind: 'first', priority: ['email', 'telegram', 'sms', 'slack'] })).toEqual(['email', 'telegram', 'sms', 'slack']);
  });
});
