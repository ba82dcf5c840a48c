/**
 * A loopback Discord webhook, modelled on Discord's documented API (resources/webhook):
 *
 * | request                                          | answer                                                    |
 * |--------------------------------------------------|-----------------------------------------------------------|
 * | `POST /api/[v10/]webhooks/{id}/{token}?wait=true` | 200, the created message object                           |
 * | the same without `wait=true`                     | 204, no body                                              |
 * | `GET  /api/[v10/]webhooks/{id}/{token}`          | 200, the webhook object (no `user`, as with a token)      |
 * | an unknown id / a wrong token                     | 404 `{code: 10015, "Unknown Webhook"}` / 401 `{code: 50027, "Invalid Webhook Token"}` |
 * | empty `content` (after trimming)                 | 400 `{code: 50006, "Cannot send an empty message"}`       |
 * | `content` over 2,000 characters, bad `allowed_mentions`, bad `flags` | 400 `{code: 50035, "Invalid Form Body", errors: {…}}` |
 * | fault `rate-limit`                               | 429 `{message, retry_after (s, float), global}` + `Retry-After` header |
 *
 * It also works out who the message would have notified (`pings`), the way Discord applies
 * `allowed_mentions`, so a test proves that nobody was paged.
 */
import { randomBytes } from 'node:crypto';
import { discord } from '../../src/channels/discord.js';
import { providerControls, startHttpFake, type Answer, type Fault, type HttpFake, type RecordedRequest } from './http-fake.js';
import type { ProviderFake, Received } from './provider.js';

const maxContentChars = 2000;
const webhookId = '1234567890123456789';
const channelId = '1111111111111111111';
const guildId = '2222222222222222222';
/** Message flags a webhook may set: SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS. */
const webhookFlags = (1 << 2) | (1 << 12);
const mentionTypes = ['roles', 'users', 'everyone'];

const discordError = (status: number, code: number, message: string, errors?: object): Answer => ({
  status,
  json: { message, code, ...(errors && { errors }) },
});
const invalidForm = (errors: object) => discordError(400, 50035, 'Invalid Form Body', errors);
const fieldError = (code: string, message: string) => ({ _errors: [{ code, message }] });

export function discordFault(fault: Fault): Answer {
  switch (fault.kind) {
    case 'rate-limit': {
      const retryAfterS = fault.retryAfterS ?? 1;
      return {
        status: 429,
        json: { message: 'You are being rate limited.', retry_after: retryAfterS, global: false },
        headers: { 'retry-after': String(Math.ceil(retryAfterS)), 'x-ratelimit-scope': 'user', 'x-ratelimit-remaining': '0' },
      };
    }
    case 'server-error':
      return discordError(fault.status ?? 500, 0, `${fault.status ?? 500}: Internal Server Error`);
    case 'temporary':
      return discordError(503, 0, '503: Service Unavailable');
    case 'permanent': // the one permanent refusal a webhook has: it was deleted
      return discordError(404, 10015, 'Unknown Webhook');
    case 'reset':
      return { reset: true };
    case 'hang':
      return { hang: true };
  }
}

/** Who Discord would notify for this content under these allowed_mentions (absent = everything parsed). */
export function pingsOf(content: string, allowed: { parse?: string[]; users?: string[]; roles?: string[] } | undefined): string[] {
  const parse = new Set(allowed === undefined ? mentionTypes : allowed.parse ?? []);
  const pings: string[] = [];
  for (const [mention] of content.matchAll(/@everyone|@here|<@!?\d+>|<@&\d+>/g)) {
    const kind = mention.startsWith('<@&') ? 'roles' : mention.startsWith('<@') ? 'users' : 'everyone';
    const id = /\d+/.exec(mention)?.[0] ?? '';
    if (parse.has(kind) || (kind === 'users' && allowed?.users?.includes(id)) || (kind === 'roles' && allowed?.roles?.includes(id))) pings.push(mention);
  }
  return pings;
}

/** Discord's checks on allowed_mentions, with its error shapes; undefined = valid. */
function allowedMentionsErrors(value: unknown): object | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { allowed_mentions: fieldError('MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType') };
  const { parse, users, roles } = value as { parse?: unknown; users?: unknown; roles?: unknown };
  if (parse !== undefined) {
    if (!Array.isArray(parse)) return { allowed_mentions: { parse: fieldError('LIST_TYPE_CONVERT', 'Only iterables may be used in a ListType') } };
    const bad = parse.findIndex((p) => !mentionTypes.includes(p as string));
    if (bad >= 0) return { allowed_mentions: { parse: { [bad]: fieldError('BASE_TYPE_CHOICES', "Value must be one of ('roles', 'users', 'everyone').") } } };
    for (const kind of ['users', 'roles'] as const) {
      const list = kind === 'users' ? users : roles;
      if (parse.includes(kind) && Array.isArray(list) && list.length > 0) {
        return { allowed_mentions: fieldError('MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE', `parse:["${kind}"] and ${kind}: [ids] are mutually exclusive.`) };
      }
    }
  }
  return undefined;
}

export interface DiscordFake extends ProviderFake {
  http: HttpFake;
  webhookUrl: string;
  token: string;
  /** Mentions that would have notified someone, per accepted message (empty when nobody was pinged). */
  pings: string[][];
}

export async function startDiscordFake(): Promise<DiscordFake> {
  const token = randomBytes(51).toString('base64url').slice(0, 68);
  const messages: Received[] = [];
  const pings: string[][] = [];
  const faultFor = new Map<string, Fault>();
  let nextMessageId = 1300000000000000000n;
  const route = (req: RecordedRequest) => /^\/api(?:\/v\d+)?\/webhooks\/(\d+)\/([^/?]+)\/?(?:\?(.*))?$/.exec(req.path);
  const isSend = (req: RecordedRequest) => req.method === 'POST' && route(req) !== null;
  let address = '';

  const handle = (req: RecordedRequest): Answer => {
    const [, id, pathToken, query = ''] = route(req) ?? [];
    if (!id) return discordError(404, 0, '404: Not Found');
    if (id !== webhookId) return discordError(404, 10015, 'Unknown Webhook');
    if (pathToken !== token) return discordError(401, 50027, 'Invalid Webhook Token');
    if (req.method === 'GET') {
      return { status: 200, json: { application_id: null, avatar: null, channel_id: channelId, guild_id: guildId, id: webhookId, name: 'Crisis notices', type: 1, token } };
    }
    if (req.method !== 'POST') return discordError(405, 0, '405: Method Not Allowed');
    return execute(req, new URLSearchParams(query));
  };

  const execute = (req: RecordedRequest, query: URLSearchParams): Answer => {
    const fault = faultFor.get(address);
    if (fault) return discordFault(fault);
    if (!req.headers['content-type']?.includes('application/json')) return discordError(400, 50006, 'Cannot send an empty message');
    const body = req.body as unknown as { content?: unknown; allowed_mentions?: unknown; flags?: unknown; embeds?: unknown };
    const mentionErrors = allowedMentionsErrors(body.allowed_mentions);
    if (mentionErrors) return invalidForm(mentionErrors);
    if (body.flags !== undefined && (typeof body.flags !== 'number' || (body.flags & ~webhookFlags) !== 0)) {
      return invalidForm({ flags: fieldError('MESSAGE_FLAGS_INVALID', 'Invalid flags') });
    }
    const content = typeof body.content === 'string' ? body.content.trim() : '';
    if (content === '') return discordError(400, 50006, 'Cannot send an empty message');
    if ([...content].length > maxContentChars) return invalidForm({ content: fieldError('BASE_TYPE_MAX_LENGTH', `Must be ${maxContentChars} or fewer in length.`) });

    messages.push({ to: address, text: body.content as string });
    const pinged = pingsOf(content, body.allowed_mentions as Parameters<typeof pingsOf>[1]);
    pings.push(pinged);
    if (query.get('wait') !== 'true') return { status: 204, json: '' };
    const id = String(nextMessageId++);
    return {
      status: 200,
      json: {
        type: 0, id, channel_id: channelId, content, author: { bot: true, id: webhookId, username: 'Crisis notices', avatar: null, discriminator: '0000' },
        attachments: [], embeds: [], mentions: [], mention_roles: [], mention_everyone: pinged.some((p) => p.startsWith('@')), pinned: false, tts: false,
        timestamp: new Date().toISOString(), edited_timestamp: null, flags: body.flags ?? 0, components: [], webhook_id: webhookId,
      },
    };
  };

  const http = await startHttpFake(handle, isSend);
  const webhookUrl = `${http.url}/api/webhooks/${webhookId}/${token}`;
  const env = { DISCORD_WEBHOOK_URL: webhookUrl };
  // Messages are recorded under the address the channel plans them for (its readable label).
  address = discord.broadcastAddress!({ env })!;
  return Object.assign(providerControls(http, isSend, discordFault, faultFor), {
    http,
    token,
    webhookUrl,
    pings,
    env,
    messages,
  });
}
