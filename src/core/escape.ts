/**
 * Escaping of variable values for the body a template produces. Templates hold their
 * channel's own markup literally; only the values put into them are escaped, so a contact
 * named `<b>Tom & Jerry</b>` reads literally everywhere. Each channel declares its own
 * escaper (see `Channel.escape`, with its table in the channel's file); HTML, shared by
 * email alternatives and status pages, lives here.
 *
 * | HTML | &amp; for &, &lt; for <, &gt; for >, &quot; for ", &#39; for ' |
 */
export type Escaper = (value: string) => string;

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml: Escaper = (value) => value.replace(/[&<>"']/g, (c) => HTML[c]!);

/**
 * Escape every string inside a template context (objects and arrays included); no escaper =
 * plain text. What needs no escaping is not copied: a value, array or object comes back as
 * the same one when nothing in it changed, which is most people's case (context.ts).
 */
export function escapeDeep<T>(escape: Escaper | undefined, value: T): T {
  if (!escape) return value;
  if (typeof value === 'string') return escape(value) as T;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const escaped = escapeDeep(escape, value[i]);
      if (escaped !== value[i]) (copy ??= [...value])[i] = escaped;
    }
    return (copy ?? value) as T;
  }
  if (value && typeof value === 'object') {
    // A plain loop: this runs for every contact and channel (Object.entries/fromEntries cost 3×).
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const field = (value as Record<string, unknown>)[key];
      const escaped = escapeDeep(escape, field);
      if (escaped !== field) (copy ??= { ...(value as Record<string, unknown>) })[key] = escaped;
    }
    return (copy ?? value) as T;
  }
  return value;
}
