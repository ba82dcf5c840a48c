/**
 * A loopback Slack Web API: chat.postMessage and auth.test, bearer token checked. Message
 * text is recorded raw, as the SDK sent it, so tests can assert the escaping.
 *
 * | fault        | answer                                             |
 * |--------------|----------------------------------------------------|
 * | rate-limit   | HTTP 429 with Retry-After (seconds)                |
 * | server-error | HTTP 500 (or the status given)                     |
 * | temporary    | HTTP 503                                           |
 * | permanent    | HTTP 200 `{ok:false, error:'channel_not_found'}`   |
 * | reset, hang  | socket destroyed / never answered                  |
 */
import { randomBytes } from 'node:crypto';
import { providerControls, startHttpFake, type Answer, type Fault, type HttpFake, type RecordedRequest } from './http-fake.js';
import type { ProviderFake, Received } from './provider.js';

const POST_MESSAGE = '/api/chat.postMessage';

export function slackAnswerFor(fault: Fault): Answer {
  switch (fault.kind) {
    case 'rate-limit':
      return { status: 429, json: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': String(fault.retryAfterS ?? 1) } };
    case 'server-error':
      return { status: fault.status ?? 500, json: { ok: false, error: 'internal_error' } };
    case 'temporary':
      return { status: 503, json: { ok: false, error: 'service_unavailable' } };
    case 'permanent':
      return { status: 200, json: { ok: false, error: 'channel_not_found' } };
    case 'reset':
      return { reset: true };
    case 'hang':
      return { hang: true };
  }
}

export async function startSlackFake(): Promise<ProviderFake & { http: HttpFake } & SlackInbound> {
  const token = `xoxb-fake-${randomBytes(8).toString('hex')}`;
  const messages: Received[] = [];
  const byAddress = new Map<string, Fault>();
  let seq = 100;
  const inbound = slackInbound();

  const handle = (req: RecordedRequest): Answer => {
    if (req.headers.authorization !== `Bearer ${token}`) return { status: 200, json: { ok: false, error: 'invalid_auth' } };
    if (req.path === '/api/auth.test') {
      return { status: 200, json: { ok: true, url: 'https://fake.slack.com/', team: 'Fake', user: 'crisis-bot', team_id: 'T1', user_id: 'U0BOT', bot_id: 'B1' } };
    }
    const read = inbound.handle(req);
    if (read) return read;
    if (req.path !== POST_MESSAGE) return { status: 200, json: { ok: false, error: 'unknown_method' } };
    const { channel, text } = req.body;
    if (!channel) return { status: 200, json: { ok: false, error: 'channel_not_found' } };
    const fault = byAddress.get(channel);
    if (fault) return slackAnswerFor(fault);
    if (!text) return { status: 200, json: { ok: false, error: 'no_text' } };
    messages.push({ to: channel, text });
    const stamp = `1700000000.${String(seq++).padStart(6, '0')}`;
    inbound.posted(channel, stamp, text);
    return { status: 200, json: { ok: true, channel, ts: stamp, message: { type: 'message', text, ts: stamp, bot_id: 'B1' } } };
  };
  // Only sends consume queued faults; auth.test stays a reliable credential check.
  const http = await startHttpFake(handle, (req) => req.path === POST_MESSAGE);

  return Object.assign(providerControls(http, (r) => r.path === POST_MESSAGE, slackAnswerFor, byAddress), {
    ...inbound.api,
    http,
    env: { SLACK_BOT_TOKEN: token, SLACK_API_URL: `${http.url}/api/` },
    messages,
  });
}

// ───────────── thread replies and reactions (roll calls), kept apart from posting ─────────────

export interface SlackInbound {
  /** `user` replies in the thread of the last message posted to `to` (a member id or channel). */
  threadReply(to: string, user: string, text: string): void;
  /** `user` reacts with `name` to the last message posted to `to`. */
  react(to: string, user: string, name: string): void;
  /** conversations.replies and reactions.get calls seen. */
  readCalls(): number;
}

/**
 * conversations.replies and reactions.get as Slack documents them (form body, `channel` +
 * `ts`/`timestamp`; the parent message first, then replies oldest first; `oldest` honoured).
 * A post to a member id opens a DM: like Slack, the answer's `channel` would be a D… id;
 * this fake keeps the address given, which is what the poll reads back from the receipt.
 */
function slackInbound() {
  const threads = new Map<string, { ts: string; text: string; replies: { user: string; text: string; ts: string }[]; reactions: Map<string, string[]> }>();
  const lastTo = new Map<string, string>();
  let calls = 0;
  let clock = 0;
  const key = (channel: string, ts: string) => `${channel}:${ts}`;
  const last = (to: string) => {
    const ts = lastTo.get(to);
    if (!ts) throw new Error(`the fake posted nothing to ${to}`);
    return threads.get(key(to, ts))!;
  };
  const handle = (req: { path: string; body: Record<string, string> }): Answer | undefined => {
    if (req.path === '/api/conversations.replies') {
      calls += 1;
      const thread = threads.get(key(req.body.channel ?? '', req.body.ts ?? ''));
      if (!thread) return { status: 200, json: { ok: false, error: 'thread_not_found' } };
      const oldest = Number(req.body.oldest ?? 0);
      const parent = { type: 'message', text: thread.text, ts: thread.ts, bot_id: 'B1', thread_ts: thread.ts, reply_count: thread.replies.length };
      const replies = thread.replies.filter((r) => Number(r.ts) >= oldest).map((r) => ({ type: 'message', user: r.user, text: r.text, ts: r.ts, thread_ts: thread.ts }));
      return { status: 200, json: { ok: true, messages: [parent, ...replies], has_more: false } };
    }
    if (req.path === '/api/reactions.get') {
      calls += 1;
      const thread = threads.get(key(req.body.channel ?? '', req.body.timestamp ?? ''));
      if (!thread) return { status: 200, json: { ok: false, error: 'message_not_found' } };
      const reactions = [...thread.reactions].map(([name, users]) => ({ name, users, count: users.length }));
      return { status: 200, json: { ok: true, type: 'message', channel: req.body.channel, message: { type: 'message', text: thread.text, ts: thread.ts, ...(reactions.length && { reactions }) } } };
    }
    return undefined;
  };
  const api: SlackInbound = {
    threadReply(to, user, text) {
      clock = Math.max(clock + 0.001, Date.now() / 1000); // Slack ts: seconds with microseconds, increasing
      last(to).replies.push({ user, text, ts: clock.toFixed(6) });
    },
    react(to, user, name) {
      const reactions = last(to).reactions;
      reactions.set(name, [...(reactions.get(name) ?? []), user]);
    },
    readCalls: () => calls,
  };
  const posted = (channel: string, ts: string, text: string) => {
    threads.set(key(channel, ts), { ts, text, replies: [], reactions: new Map() });
    lastTo.set(channel, ts);
  };
  return { handle, posted, api };
}
