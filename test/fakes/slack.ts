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
import { startHttpFake, type Answer, type Fault, type HttpFake, type RecordedRequest } from './http-fake.js';
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

export async function startSlackFake(): Promise<ProviderFake & { http: HttpFake }> {
  const token = `xoxb-fake-${randomBytes(8).toString('hex')}`;
  const messages: Received[] = [];
  const byAddress = new Map<string, Fault>();
  let seq = 100;

  const handle = (req: RecordedRequest): Answer => {
    if (req.headers.authorization !== `Bearer ${token}`) return { status: 200, json: { ok: false, error: 'invalid_auth' } };
    if (req.path === '/api/auth.test') {
      return { status: 200, json: { ok: true, url: 'https://fake.slack.com/', team: 'Fake', user: 'crisis-bot', team_id: 'T1', user_id: 'U0BOT', bot_id: 'B1' } };
    }
    if (req.path !== POST_MESSAGE) return { status: 200, json: { ok: false, error: 'unknown_method' } };
    const { channel, text } = req.body;
    if (!channel) return { status: 200, json: { ok: false, error: 'channel_not_found' } };
    const fault = byAddress.get(channel);
    if (fault) return slackAnswerFor(fault);
    if (!text) return { status: 200, json: { ok: false, error: 'no_text' } };
    messages.push({ to: channel, text });
    const stamp = `1700000000.${String(seq++).padStart(6, '0')}`;
    return { status: 200, json: { ok: true, channel, ts: stamp, message: { type: 'message', text, ts: stamp, bot_id: 'B1' } } };
  };
  // Only sends consume queued faults; auth.test stays a reliable credential check.
  const http = await startHttpFake(handle, (req) => req.path === POST_MESSAGE);

  return {
    http,
    env: { SLACK_BOT_TOKEN: token, SLACK_API_URL: `${http.url}/api/` },
    messages,
    sendAttempts: () => http.requests.filter((r) => r.path === POST_MESSAGE).length,
    fail: (...faults) => http.queue(...faults.map(slackAnswerFor)),
    failFor: (address, fault) => byAddress.set(address, fault),
    hold: http.hold,
    release: http.release,
    held: http.held,
    until: http.until,
    get latencyMs() {
      return http.latencyMs;
    },
    set latencyMs(ms: number) {
      http.latencyMs = ms;
    },
    close: () => http.close(),
  };
}
