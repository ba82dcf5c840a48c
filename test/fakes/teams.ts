/**
 * A loopback Teams Workflows webhook, modelled on the Logic Apps request trigger behind it:
 * `POST /workflows/<id>/triggers/manual/paths/invoke?api-version=…&sp=…&sv=1.0&sig=…`,
 * 202 Accepted with an empty body and an `x-ms-workflow-run-id` header on success, errors as
 * `{"error":{"code","message"}}`. It validates the envelope the Teams flow reads (message →
 * one Adaptive Card attachment → card type, version ≤ 1.4, body of elements) and refuses
 * anything else with 400, so a test proves the shape by having the card accepted.
 *
 * | request / fault         | answer                                                    |
 * |-------------------------|-----------------------------------------------------------|
 * | unknown workflow id     | 404 WorkflowNotFound                                      |
 * | wrong or missing sig    | 401 DirectApiInvalidAuthorizationSignature                |
 * | GET (verify)            | 405 TriggerRequestMethodNotValid (no run started)         |
 * | invalid card            | 400 InvalidRequestContent / TriggerInputSchemaMismatch    |
 * | more than 28 KB         | 413 RequestEntityTooLarge                                 |
 * | rate-limit              | 429 with Retry-After (seconds)                            |
 * | server-error, temporary | 500 (or the status given), 503                            |
 * | permanent               | 400 TriggerInputSchemaMismatch                            |
 * | reset, hang             | socket destroyed / never answered                         |
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { providerControls, startHttpFake, type Answer, type Fault, type HttpFake, type RecordedRequest } from './http-fake.js';
import type { ProviderFake, Received } from './provider.js';

/** A webhook has no per-message address: messages are recorded under the label the channel journals. */
export const TEAMS_TARGET = 'teams (TEAMS_WEBHOOK_URL)';
const maxPayloadBytes = 28 * 1024;
const cardVersions = new Set(['1.0', '1.1', '1.2', '1.3', '1.4']);

export interface TeamsReceived extends Received {
  /** The Adaptive Card as posted. */
  card: { body: { type: string; text?: string; spacing?: string }[]; actions?: { type: string; title: string; url: string }[]; version: string };
}

const logicAppsError = (status: number, code: string, message: string, headers?: Record<string, string>): Answer => ({
  status,
  json: { error: { code, message } },
  ...(headers && { headers }),
});

export function teamsFault(fault: Fault): Answer {
  switch (fault.kind) {
    case 'rate-limit':
      return logicAppsError(429, 'WorkflowRequestsThrottled', 'The workflow trigger is throttled; retry later.', { 'retry-after': String(fault.retryAfterS ?? 1) });
    case 'server-error':
      return logicAppsError(fault.status ?? 500, 'InternalServerError', 'Encountered an internal server error.');
    case 'temporary':
      return logicAppsError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.');
    case 'permanent':
      return logicAppsError(400, 'TriggerInputSchemaMismatch', "The input body for trigger 'manual' of type 'Request' did not match its schema definition.");
    case 'reset':
      return { reset: true };
    case 'hang':
      return { hang: true };
  }
}

/** Why the Teams flow would refuse this payload, or the card it would post. */
export function readPayload(raw: string): { card: TeamsReceived['card'] } | { error: string } {
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch {
    return { error: 'the request body is not valid JSON' };
  }
  const p = payload as { type?: unknown; attachments?: { contentType?: unknown; content?: Record<string, unknown> }[] };
  if (p.type !== 'message') return { error: "Property 'type' must be 'message'" };
  if (!Array.isArray(p.attachments) || p.attachments.length === 0) return { error: "Property 'attachments' must be a non-empty array" };
  const [attachment] = p.attachments;
  if (attachment?.contentType !== 'application/vnd.microsoft.card.adaptive') return { error: "attachments[0].contentType must be 'application/vnd.microsoft.card.adaptive'" };
  const card = attachment.content;
  if (card?.type !== 'AdaptiveCard') return { error: "Property 'type' must be 'AdaptiveCard'" };
  if (typeof card.version !== 'string' || !cardVersions.has(card.version)) return { error: `card version ${String(card.version)} is not supported (1.0 to 1.4)` };
  if (!Array.isArray(card.body) || card.body.length === 0) return { error: "Property 'body' must be a non-empty array" };
  for (const element of card.body as { type?: unknown; text?: unknown }[]) {
    if (element.type !== 'TextBlock') return { error: `unexpected element type ${String(element.type)}` };
    if (typeof element.text !== 'string' || element.text === '') return { error: 'a TextBlock has no text' };
  }
  for (const action of (card.actions ?? []) as { type?: unknown; url?: unknown; title?: unknown }[]) {
    if (action.type !== 'Action.OpenUrl' || typeof action.title !== 'string' || typeof action.url !== 'string' || !URL.canParse(action.url)) {
      return { error: 'an action is not an Action.OpenUrl with a title and an absolute url' };
    }
  }
  return { card: card as unknown as TeamsReceived['card'] };
}

/** The card's text as the template wrote it: a line per TextBlock, a blank line before a paragraph. */
export function cardText(card: TeamsReceived['card']): string {
  return card.body.map((b) => `${b.spacing ? '\n' : ''}${b.text ?? ''}`).join('\n');
}

export async function startTeamsFake(): Promise<Omit<ProviderFake, 'messages'> & { http: HttpFake; messages: TeamsReceived[]; sig: string; workflowId: string }> {
  const workflowId = randomBytes(16).toString('hex');
  const sig = randomBytes(32).toString('base64url');
  const path = `/workflows/${workflowId}/triggers/manual/paths/invoke`;
  const messages: TeamsReceived[] = [];
  const faultFor = new Map<string, Fault>();
  const isSend = (req: RecordedRequest) => req.method === 'POST' && req.path.startsWith(`${path}?`);

  const handle = (req: RecordedRequest): Answer => {
    const url = new URL(req.path, 'http://fake');
    if (url.pathname !== path) return logicAppsError(404, 'WorkflowNotFound', `The workflow '${url.pathname.split('/')[2] ?? ''}' could not be found.`);
    if (url.searchParams.get('sig') !== sig || url.searchParams.get('sv') !== '1.0') {
      return logicAppsError(401, 'DirectApiInvalidAuthorizationSignature', 'The provided authorization signature is not valid.');
    }
    if (req.method !== 'POST') {
      return logicAppsError(405, 'TriggerRequestMethodNotValid', `The HTTP method for this request is not valid: expected 'POST' and actual '${req.method}'.`);
    }
    const fault = faultFor.get(TEAMS_TARGET);
    if (fault) return teamsFault(fault);
    if (!req.headers['content-type']?.includes('application/json')) return logicAppsError(400, 'InvalidRequestContent', 'The request content type must be application/json.');
    if (Buffer.byteLength(req.raw) > maxPayloadBytes) return logicAppsError(413, 'RequestEntityTooLarge', 'The message is larger than Teams accepts.');
    const read = readPayload(req.raw);
    if ('error' in read) return logicAppsError(400, 'InvalidRequestContent', read.error);
    messages.push({ to: TEAMS_TARGET, text: cardText(read.card), card: read.card });
    return { status: 202, json: undefined, headers: { 'x-ms-workflow-run-id': `0858${randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase()}`, 'content-length': '0' } };
  };

  const http = await startHttpFake(handle, isSend);
  const query = new URLSearchParams({ 'api-version': '2016-06-01', sp: '/triggers/manual/run', sv: '1.0', sig });
  return Object.assign(providerControls(http, isSend, teamsFault, faultFor), {
    http,
    sig,
    workflowId,
    env: { TEAMS_WEBHOOK_URL: `${http.url}${path}?${query}` },
    messages,
  });
}
