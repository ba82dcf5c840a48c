/**
 * Microsoft Teams through a Workflows (Power Automate) webhook: the "Post to a channel when a
 * webhook request is received" flow a team owner creates in Teams. The message goes as an
 * Adaptive Card in the envelope that flow expects. Plain fetch: there is no sending SDK for
 * webhooks, so nothing is loaded lazily and no hidden retry exists to switch off.
 *
 * What 202 means: the workflow accepted the request (and started a run). Posting the card is
 * the flow's next step, which can still fail afterwards (the flow's owner left the team, the
 * Flowbot refused the card); such a failure shows only in the flow's run history in Power
 * Automate, never to us. Hence the card is kept to the plainest elements Teams renders.
 *
 * How a template becomes the card (one TextBlock per line, so a line break is a line break:
 * TextBlock markdown would join single newlines):
 *
 * | template text                         | card                                                   |
 * |---------------------------------------|--------------------------------------------------------|
 * | first non-empty line                  | title: TextBlock, weight Bolder, size Medium           |
 * | each further line                     | TextBlock, wrap (markdown: **bold**, _italic_, `- ` lists, [text](url)) |
 * | a blank line                          | the next TextBlock gets spacing Medium (a paragraph)   |
 * | a line that is only `[Label](https://…)` | a button: Action.OpenUrl titled Label (the status page) |
 *
 * No FactSet: `Key: value` lines stay text, so what a template says is what people read.
 */
import { unsetVariables, type Channel, type ChannelSettings, type Transport } from '../core/channel.js';
import { PermanentError, RetryableError, type DeliveryError } from '../core/delivery-errors.js';
import type { Problem, Rendered } from '../core/types.js';
import { UserError } from '../errors.js';
import { HttpConnection } from './http-connection.js';
import { networkCodes } from './network-codes.js';

/** Teams refuses messages above ~28 KB (the whole JSON posted); a margin for the flow's own wrapping. */
const maxPayloadBytes = 28_000;
/** A backstop: the dispatcher's AbortSignal is the real time limit of a send. */
const requestTimeoutMs = 30_000;
/** Workflows reject cards above 1.4 (the Flowbot posts them), although Teams renders 1.5. */
const cardVersion = '1.4';
const VARIABLE = 'TEAMS_WEBHOOK_URL';
/** What the journal and the plan show instead of the URL, which carries the signature. */
const TARGET_LABEL = `teams (${VARIABLE})`;

type Rule = { permanent: boolean; reason: string; channelWide?: boolean };
const URL_REFUSED = (why: string, what: string): Rule => ({ permanent: true, channelWide: true, reason: `${why}: ${what}` });

/** HTTP status of the webhook → decision. Logic Apps answers `{"error":{"code","message"}}`. */
const teamsStatuses: Record<number, Rule> = {
  400: { permanent: true, reason: 'the Teams workflow refused the card as malformed: check the Teams template' },
  401: URL_REFUSED('the Teams workflow refused the signature of TEAMS_WEBHOOK_URL', 'copy the URL again from the workflow in Teams'),
  403: URL_REFUSED('the Teams workflow refused the signature of TEAMS_WEBHOOK_URL', 'copy the URL again from the workflow in Teams'),
  404: URL_REFUSED('no Teams workflow answers at TEAMS_WEBHOOK_URL (deleted or never saved)', 'create the webhook workflow again in Teams and update TEAMS_WEBHOOK_URL'),
  413: { permanent: true, reason: `the Teams card is larger than Teams accepts (~${maxPayloadBytes / 1000} KB): shorten the Teams template` },
  429: { permanent: false, reason: 'Teams is limiting the sending rate (too many requests)' },
};


const MARKDOWN: Record<string, string> = { '\\': '\\\\', '*': '\\*', _: '\\_', '~': '\\~', '`': '\\`', '[': '\\[', ']': '\\]' };
/**
 * Values in Adaptive Card TextBlock markdown: CommonMark backslash escapes for the characters
 * that could make emphasis, code or a link, and line breaks flattened so that a value can never
 * start a line (where `- `, `1. ` or `#` would make a list or a heading). HTML is not rendered
 * by Teams and no `<at>` mention works without a `msteams.entities` list (we send none), so
 * `<b>`, `&`, `@everyone` read literally as they are.
 *
 * | \ → \\ | * → \* | _ → \_ | ~ → \~ | ` → \` | [ → \[ | ] → \] | line break → space |
 */
export const escapeCardMarkdown = (value: string) =>
  value.replace(/\r\n|[\r\n]/g, ' ').replace(/[\\*_~`[\]]/g, (c) => MARKDOWN[c]!);

/** Undo escapeCardMarkdown's escapes where the text is not markdown (a button's title and URL). */
const unescapeMarkdown = (text: string) => text.replace(/\\([\\*_~`[\]()])/g, '$1');

const LINK_LINE = /^\[((?:\\.|[^\]\\])+)\]\(((?:\\.|[^)\\\s])+)\)$/;

export interface AdaptiveCard {
  $schema: string;
  type: 'AdaptiveCard';
  version: string;
  body: { type: 'TextBlock'; text: string; wrap: true; weight?: 'Bolder'; size?: 'Medium'; spacing?: 'Medium' }[];
  actions?: { type: 'Action.OpenUrl'; title: string; url: string }[];
}

/** The template's text as an Adaptive Card (see the table at the top of this file). */
export function toCard(text: string): AdaptiveCard {
  const body: AdaptiveCard['body'] = [];
  const actions: NonNullable<AdaptiveCard['actions']> = [];
  let paragraph = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line.trim() === '') {
      paragraph = body.length > 0;
      continue;
    }
    const link = LINK_LINE.exec(line.trim());
    if (link && body.length > 0) {
      actions.push({ type: 'Action.OpenUrl', title: unescapeMarkdown(link[1]!), url: unescapeMarkdown(link[2]!) });
      continue;
    }
    const block: AdaptiveCard['body'][number] = body.length === 0
      ? { type: 'TextBlock', text: line, wrap: true, weight: 'Bolder', size: 'Medium' }
      : { type: 'TextBlock', text: line, wrap: true };
    if (paragraph) block.spacing = 'Medium';
    paragraph = false;
    body.push(block);
  }
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: cardVersion,
    body,
    ...(actions.length > 0 && { actions }),
  };
}

/** The JSON a Workflows webhook expects: a message with the card as its one attachment. */
export function toPayload(text: string): string {
  return JSON.stringify({
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: toCard(text) }],
  });
}

export const teams: Channel = {
  name: 'teams',
  summary: 'Microsoft Teams through a Workflows webhook',
  // No per-person column: a webhook posts in the one team channel it was created in, like
  // SLACK_CHANNEL. A contacts column of webhook names would put more secret URLs in config
  // for little gain; a second team channel is a second workflow posting the same card.
  columns: [],
  escape: escapeCardMarkdown,
  byDefault: 'when-configured',
  // One card per run (a broadcast); Teams throttles a channel's webhook posts to a few a second.
  defaults: { concurrency: 1, perSecond: 1 },
  env: [
    {
      name: VARIABLE,
      secret: true, // the URL's sig= parameter is the credential
      url: { schemes: ['https', 'http'], example: 'https://prod-00.westeurope.logic.azure.com:443/workflows/…/triggers/manual/paths/invoke?api-version=2016-06-01&sp=…&sv=1.0&sig=…' },
      description: 'URL of the Teams "post to a channel when a webhook request is received" workflow (it carries a signature: keep it secret)',
    },
  ],
  missingConfig: (settings) => unsetVariables(settings, [VARIABLE]),
  broadcastAddress: (settings) => (settings.env[VARIABLE] ? TARGET_LABEL : undefined),

  check(message: Rendered): Problem[] {
    const problems: Problem[] = [];
    const bytes = Buffer.byteLength(toPayload(message.text));
    if (bytes > maxPayloadBytes) {
      problems.push({ where: 'teams', group: 'limits', message: `This Teams card is ${bytes.toLocaleString('en-US')} bytes but Teams accepts about ${maxPayloadBytes.toLocaleString('en-US')}; shorten the template.` });
    }
    const card = toCard(message.text);
    for (const action of card.actions ?? []) {
      if (!/^https?:$/.test(safeProtocol(action.url))) {
        problems.push({ where: 'teams', group: 'limits', message: `The button "${action.title}" of this Teams card links to "${action.url}", which is not an http(s) address; fix the link line or the variable it uses.` });
      }
    }
    return problems;
  },

  async connect(settings: ChannelSettings): Promise<Transport> {
    const webhook = parseWebhook(settings.env[VARIABLE]);
    const host = webhook.host;
    // The signature as written in the URL and decoded, and the whole URL: none may be shown.
    const rawSig = /[?&]sig=([^&#]+)/.exec(settings.env[VARIABLE]!)?.[1];
    const secrets = [settings.env[VARIABLE]!, webhook.href, webhook.searchParams.get('sig')!, ...(rawSig ? [rawSig] : [])];
    const http = await HttpConnection.open();
    const call = async (method: 'POST' | 'GET', signal: AbortSignal, body?: string): Promise<Response> => {
      if (signal.aborted) throw new RetryableError('not sent: the time limit ran out before the request started', 'aborted');
      try {
        return await http.fetch(webhook, {
          method,
          ...(body !== undefined && { body, headers: { 'content-type': 'application/json' } }),
          // A redirected POST could be re-sent elsewhere, with the signature: never follow.
          redirect: 'manual',
          signal: AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMs)]),
        });
      } catch (err) {
        if (signal.aborted) {
          throw new RetryableError(`no answer from Teams within the time limit${method === 'POST' ? '; the card may or may not have been posted' : ''}`, 'timeout', undefined, method === 'POST');
        }
        throw networkError(err, host, secrets, method === 'POST');
      }
    };

    return {
      async send(message, signal) {
        // message.to is TARGET_LABEL: the URL itself is never journaled.
        const res = await call('POST', signal, toPayload(message.text));
        const detail = await res.text().catch(() => '');
        if (res.status >= 200 && res.status < 300) {
          // Logic Apps names the run it started; it is what to look for in the flow's history.
          return { providerId: res.headers.get('x-ms-workflow-run-id') ?? `teams-${res.status}` };
        }
        throw statusError(res, detail, host, secrets);
      },
      /**
       * Sends nothing: a GET on the webhook. The workflow's trigger only accepts POST, so a
       * live workflow answers an error (Logic Apps: `TriggerRequestMethodNotValid`, a 4xx) without
       * starting a run, whereas a deleted one answers 404 and a bad signature 401/403. Whether Logic
       * Apps checks the signature before the method is not documented, so a wrong signature may
       * only show at the first send. Even a trigger set to accept any method would start a run with
       * no attachment, and the flow posts nothing without one.
       */
      async verify(signal) {
        const res = await call('GET', signal);
        const detail = await res.text().catch(() => '');
        if (res.status === 401 || res.status === 403 || res.status === 404 || res.status === 429 || res.status >= 500 || (res.status >= 300 && res.status < 400)) {
          throw statusError(res, detail, host, secrets, false);
        }
      },
      async close() {
        http.close();
      },
    };
  },
};

/** TEAMS_WEBHOOK_URL, checked before anything is sent (config.ts already checked that it is a URL). */
function parseWebhook(value: string | undefined): URL {
  if (!value) throw new UserError(`Microsoft Teams is not configured: set ${VARIABLE}.`);
  const url = new URL(value);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !loopback) {
    throw new UserError(`${VARIABLE} must start with https:// (its signature would travel in clear); copy it again from the workflow in Teams.`);
  }
  if (!url.searchParams.get('sig')) {
    throw new UserError(`${VARIABLE} has no sig= parameter; copy the whole URL from the workflow's "When a Teams webhook request is received" step.`);
  }
  return url;
}

function statusError(res: Response, body: string, host: string, secrets: string[], sending = true): DeliveryError {
  const status = res.status;
  const code = providerCode(body);
  const tag = `teams-${status}`;
  const said = code ? ` (Teams: ${scrub(code, secrets)})` : '';
  const rule = teamsStatuses[status];
  if (rule?.permanent) return new PermanentError(`${rule.reason}${status === 400 ? said : ''}`, tag, rule.channelWide ?? false);
  if (rule) return new RetryableError(rule.reason, tag, retryAfterMs(res.headers.get('retry-after')));
  if (status >= 300 && status < 400) {
    return new PermanentError(`${host} redirects the Teams webhook elsewhere: set ${VARIABLE} to the URL the workflow shows`, tag, true);
  }
  if (status >= 500) {
    // Gateways (502, 504) may have passed the request on before failing.
    const unknown = sending && (status === 502 || status === 504);
    return new RetryableError(`Teams had a server error (HTTP ${status})${unknown ? '; the card may or may not have been posted' : ''}`, tag, retryAfterMs(res.headers.get('retry-after')), unknown);
  }
  return new PermanentError(`the Teams workflow refused the card (HTTP ${status})${said}`, tag);
}

/** Logic Apps' error code and message, e.g. `WorkflowNotFound: The workflow '…' could not be found.` */
function providerCode(body: string): string | undefined {
  try {
    const { error } = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof error?.code !== 'string') return undefined;
    return typeof error.message === 'string' ? `${error.code}: ${error.message.slice(0, 200)}` : error.code;
  } catch {
    return undefined;
  }
}

function networkError(err: unknown, host: string, secrets: string[], sending: boolean): RetryableError {
  if ((err as { name?: string }).name === 'TimeoutError') {
    return new RetryableError(`Teams (${host}) did not answer within ${requestTimeoutMs / 1000} s${sending ? '; the card may or may not have been posted' : ''}`, 'timeout', undefined, sending);
  }
  const cause = (err as { cause?: { code?: string; cause?: { code?: string } } }).cause;
  const code = cause?.code ?? cause?.cause?.code ?? '';
  const known = networkCodes[code];
  if (known?.[0] === false) return new RetryableError(`could not reach Teams: ${host} ${known[1]}; check ${VARIABLE} and the network`, code);
  if (known) return new RetryableError(`Teams (${host}) ${known[1]}${sending ? '; the card may or may not have been posted' : ''}`, code, undefined, sending);
  const message = scrub(String((err as { message?: unknown }).message), secrets);
  return new RetryableError(`unexpected failure talking to Teams (${host}): ${message}`, code || 'unexpected', undefined, sending);
}

/** `Retry-After` is seconds or an HTTP date. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms)) : undefined;
}

function safeProtocol(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}

/** The webhook URL (and its signature alone) never reach a message. */
function scrub(text: string, secrets: string[]): string {
  return secrets.reduce((t, secret) => t.split(secret).join('***'), text);
}
