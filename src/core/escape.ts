/**
 * Escaping of variable values for each kind of message body. Templates hold their
 * channel's own markup literally; only the values put into them are escaped, so a
 * contact named `<b>Tom & Jerry</b>` reads literally everywhere.
 *
 * | body          | &      | <     | >     | "       |
 * |---------------|--------|-------|-------|---------|
 * | sms, email    | as is  | as is | as is | as is   |
 * | email HTML    | &amp;  | &lt;  | &gt;  | &quot; (and ' → &#39;) |
 * | Slack mrkdwn  | &amp;  | &lt;  | &gt;  | as is   |
 * | Telegram HTML | &amp;  | &lt;  | &gt;  | &quot;  |
 */
export type BodyKind = 'plain' | 'html' | 'slack' | 'telegram';

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const escapers: Record<BodyKind, (value: string) => string> = {
  plain: (v) => v,
  html: (v) => v.replace(/[&<>"']/g, (c) => HTML[c]!),
  slack: (v) => v.replace(/[&<>]/g, (c) => HTML[c]!),
  telegram: (v) => v.replace(/[&<>"]/g, (c) => HTML[c]!),
};

/** Escape every string inside a template context (objects and arrays included). */
export function escapeDeep<T>(kind: BodyKind, value: T): T {
  if (kind === 'plain') return value;
  if (typeof value === 'string') return escapers[kind](value) as T;
  if (Array.isArray(value)) return value.map((v) => escapeDeep(kind, v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDeep(kind, v)])) as T;
  }
  return value;
}
