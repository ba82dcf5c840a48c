/**
 * The baselines: what the transports do with no crisis-notify on top, run in a process of
 * their own (as the CLI is) so the fakes in the bench process get the same CPU either way.
 *
 *   fanout    raw fetch (Twilio, Slack, Telegram: the very requests the CLI sent, replayed)
 *             and nodemailer with a pool (SMTP), all four channels at once, N in flight each
 *   sdk-loop  one channel's SDK called in a bare `for … await` loop, one message at a time
 *
 * Input: a JSON job file (argv[2]). Output: one JSON object on stdout with, per channel,
 * the time from the first request leaving to the last answer (epoch ms).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Span } from './spans.js';

export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Mail {
  to: string;
  subject?: string;
  text: string;
  html?: string;
  messageId?: string;
}

export interface SmtpTarget {
  url: string;
  from: string;
  maxConnections: number;
}

export type Job =
  | { mode: 'fanout'; concurrency: number; http: Record<string, HttpRequest[]>; email: { target: SmtpTarget; mails: Mail[] } }
  | { mode: 'sdk-loop'; channel: 'sms' | 'email' | 'slack' | 'telegram'; env: Record<string, string>; mails: Mail[] };

export interface WorkerResult {
  channels: Record<string, Span>;
  /** Time to load the SDK and build its client (sdk-loop only): not part of the span. */
  setupMs?: number;
}

const now = () => performance.timeOrigin + performance.now();

/** Run `send` over `items` with at most `concurrency` in flight; time the whole span. */
async function pool<T>(items: T[], concurrency: number, send: (item: T) => Promise<void>): Promise<Span> {
  let next = 0;
  let firstStartMs = Infinity;
  let lastEndMs = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      firstStartMs = Math.min(firstStartMs, now());
      await send(item);
      lastEndMs = now();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return { messages: items.length, firstStartMs, lastEndMs };
}

async function post(request: HttpRequest): Promise<void> {
  const res = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body });
  const text = await res.text();
  if (!res.ok) throw new Error(`${request.url} answered ${res.status}: ${text.slice(0, 200)}`);
}

async function smtpTransport(target: SmtpTarget) {
  const { createTransport } = await import('nodemailer');
  const url = new URL(target.url);
  return createTransport({
    host: url.hostname,
    port: Number(url.port),
    secure: false,
    auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) },
    pool: true,
    maxConnections: target.maxConnections,
    // As crisis-notify's pool (MAX_MESSAGES_PER_CONNECTION in src/channels/email.ts): a
    // connection is not redialled every 100 mails on either side.
    maxMessages: 1000,
    logger: false,
  });
}

async function fanout(job: Extract<Job, { mode: 'fanout' }>): Promise<WorkerResult> {
  const transport = await smtpTransport(job.email.target);
  const from = job.email.target.from;
  const spans = await Promise.all([
    ...Object.entries(job.http).map(async ([channel, requests]) => [channel, await pool(requests, job.concurrency, post)] as const),
    (async () => ['email', await pool(job.email.mails, job.concurrency, async (m) => void (await transport.sendMail({ from, ...m })))] as const)(),
  ]);
  transport.close();
  return { channels: Object.fromEntries(spans) };
}

/** Each SDK as its README shows it, pointed at the fake the way provider-notes.md says. */
async function sdkSender(channel: string, env: Record<string, string>): Promise<(m: Mail) => Promise<unknown>> {
  const need = (key: string) => env[key] ?? (() => { throw new Error(`${key} missing`); })();
  switch (channel) {
    case 'sms': {
      const { default: twilio } = await import('twilio');
      const client = twilio(need('TWILIO_ACCOUNT_SID'), need('TWILIO_AUTH_TOKEN'), {
        edge: '', region: '', httpClient: new twilio.RequestClient({ keepAlive: true }),
      });
      client.api.baseUrl = need('TWILIO_API_URL');
      const from = need('TWILIO_FROM');
      return (m) => client.messages.create({ to: m.to, from, body: m.text });
    }
    case 'email': {
      const transport = await smtpTransport({ url: need('SMTP_URL'), from: need('MAIL_FROM'), maxConnections: 1 });
      const from = need('MAIL_FROM');
      return (m) => transport.sendMail({ from, ...m });
    }
    case 'slack': {
      const { WebClient } = await import('@slack/web-api');
      const client = new WebClient(need('SLACK_BOT_TOKEN'), { slackApiUrl: need('SLACK_API_URL'), retryConfig: { retries: 0 } });
      return (m) => client.chat.postMessage({ channel: m.to, text: m.text, unfurl_links: false, mrkdwn: true });
    }
    case 'telegram': {
      const { Api } = await import('node-telegram-bot-api');
      const api = new Api(need('TELEGRAM_BOT_TOKEN'), { apiRoot: need('TELEGRAM_API_URL') });
      return (m) => api.sendMessage({ chat_id: m.to, text: m.text, parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    }
  }
  throw new Error(`unknown channel ${channel}`);
}

async function sdkLoop(job: Extract<Job, { mode: 'sdk-loop' }>): Promise<WorkerResult> {
  const setupStart = now();
  const send = await sdkSender(job.channel, job.env);
  const setupMs = now() - setupStart;
  const firstStartMs = now();
  for (const mail of job.mails) await send(mail);
  return { setupMs, channels: { [job.channel]: { messages: job.mails.length, firstStartMs, lastEndMs: now() } } };
}

const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Job;
const result = job.mode === 'fanout' ? await fanout(job) : await sdkLoop(job);
process.stdout.write(JSON.stringify(result) + '\n');
// Pools and keep-alive sockets would hold the process open; the result is out.
process.exit(0);
