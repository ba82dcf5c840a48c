/**
 * `watch.yaml`: what `notify watch` probes and how it decides. Read once at start; every
 * mistake is one sentence naming the file and line, so a lead editing it at 2 a.m. knows
 * what to fix.
 *
 * ```yaml
 * service: WhatsApp          # optional; default: `service` in templates/variables.yaml
 * interval: 1m               # one round of probes every…
 * timeout: 10s               # default time limit of one probe
 * down_after: 3 of 4         # failed rounds out of the last rounds
 * agree: 2                   # a round fails only when at least this many probes fail in it
 * up_after: 3                # clean rounds in a row before the service is called back up
 * team: crisis-team          # the only group the watcher messages on its own
 * probes:
 *   - { name: web, http: https://web.example.com/, status: [200, 302], max_time: 5s, contains: "…" }
 *   - { name: status page, http: https://status.example.com/api/v2/status.json, json: { path: status.indicator, equals: none } }
 *   - { name: dns, dns: web.example.com }
 *   - { name: edge, tcp: "web.example.com:443" }
 *   - { name: script, command: ./check.sh, interval: 5m, timeout: 30s }
 * auto: { scenario: outage, group: customers, vars: { eta: "unknown" } }   # off unless present
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import * as z from 'zod';
import { UserError } from '../../errors.js';
import { parseDuration } from '../duration.js';
import { displayPath } from '../templates.js';

export type ProbeKind = 'http' | 'dns' | 'tcp' | 'command';
const KINDS: readonly ProbeKind[] = ['http', 'dns', 'tcp', 'command'];

interface ProbeBase {
  name: string;
  /** At least this long between two checks; a probe runs at most once per round, so a shorter interval means every round. */
  intervalMs: number;
  timeoutMs: number;
}
export type ProbeSpec = ProbeBase & (
  | {
      kind: 'http'; url: string; method: string; headers: Record<string, string>;
      /** Accepted final status codes; empty = any 2xx or 3xx. */
      status: number[];
      maxTimeMs?: number; contains?: string;
      json?: { path: string; equals?: (string | number | boolean)[] };
    }
  | { kind: 'dns'; host: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'command'; command: string }
);

export interface AutoSend {
  scenario: string;
  group: string;
  vars: Record<string, string>;
}

export interface WatchConfig {
  file: string;
  service?: string;
  intervalMs: number;
  downAfter: { failed: number; of: number };
  agree: number;
  upAfter: number;
  team: string;
  probes: ProbeSpec[];
  auto?: AutoSend;
}

export const WATCH_FILE = 'watch.yaml';

const duration = (what: string) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `${what} "${value}" is not a duration; write it like 30s, 5m or 1h` });
      return z.NEVER;
    }
    return ms;
  });
const text = (what: string) => z.string({ error: (issue) => (issue.input === undefined ? `${what} is missing` : `${what} must be text`) }).trim().min(1, { error: `${what} is empty` });
const count = (what: string) => z.number({ error: `${what} must be a whole number` }).int({ error: `${what} must be a whole number` }).min(1, { error: `${what} must be at least 1` });
const scalar = z.union([z.string(), z.number(), z.boolean()]);

const ProbeSchema = z.strictObject({
  name: text('name'),
  http: z.url({ protocol: /^https?$/, error: 'http must be a full http:// or https:// URL' }).optional(),
  dns: text('dns').optional(),
  tcp: z.string({ error: 'tcp must be host:port' }).regex(/^\[?[^\s\]]+\]?:\d{1,5}$/, { error: 'tcp must be host:port, e.g. "web.example.com:443"' }).optional(),
  command: text('command').optional(),
  interval: duration('interval').optional(),
  timeout: duration('timeout').optional(),
  method: z.enum(['GET', 'HEAD', 'POST'], { error: 'method must be GET, HEAD or POST' }).optional(),
  headers: z.record(z.string(), z.string(), { error: 'headers must be "Name: value" pairs' }).optional(),
  status: z.union([z.number().int(), z.array(z.number().int())], { error: 'status must be a status code or a list, e.g. [200, 204]' }).optional(),
  max_time: duration('max_time').optional(),
  contains: text('contains').optional(),
  json: z.strictObject({
    path: text('json.path'),
    equals: z.union([scalar, z.array(scalar)]).optional(),
  }, { error: 'json must be { path: a.b.c, equals: value }' }).optional(),
});

const FileSchema = z.strictObject({
  service: text('service').optional(),
  interval: duration('interval').optional(),
  timeout: duration('timeout').optional(),
  down_after: z.string({ error: 'down_after must read "N of M", e.g. "3 of 4"' }).regex(/^\s*\d+\s+of\s+\d+\s*$/, { error: 'down_after must read "N of M", e.g. "3 of 4"' }).optional(),
  agree: count('agree').optional(),
  up_after: count('up_after').optional(),
  team: text('team').optional(),
  probes: z.array(ProbeSchema, { error: 'probes must be a list' }).min(1, { error: 'probes is empty; list at least two independent probes' }),
  auto: z.strictObject({
    scenario: text('auto.scenario'),
    group: text('auto.group'),
    vars: z.record(z.string(), scalar).optional(),
  }, { error: 'auto must name a scenario and a group' }).optional(),
}, { error: 'watch.yaml must be a mapping with a "probes:" list' });

/** Read and check watch.yaml; every problem is a UserError naming the file and line. */
export function loadWatchConfig(file: string): WatchConfig {
  if (!existsSync(file)) {
    throw new UserError(`No ${file}; copy the example next to your contacts (cp "$(npm root --global)/crisis-notify/watch.example.yaml" watch.yaml, or from your clone) and point its probes at your service, or pass --config FILE.`);
  }
  return parseWatchConfig(readFileSync(file, 'utf8'), displayPath(file));
}

export function parseWatchConfig(source: string, file: string): WatchConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false });
  const fail = (line: number, message: string): never => {
    throw new UserError(`${file}:${line}: ${message}; fix it and run notify watch again.`);
  };
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!;
    fail(lineCounter.linePos(error.pos[0]).line, `not valid YAML (${error.message.split('\n')[0]})`);
  }
  const parsed = FileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    const where = lineOf(doc, lineCounter, issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]!] : path);
    const message = issue.code === 'unrecognized_keys'
      ? `unknown setting "${issue.keys[0]}"${issue.path.length ? ` in ${label(doc, path)}` : ''}; see the settings listed in watch.example.yaml`
      : `${path[0] === 'probes' && path.length > 2 ? `${label(doc, path.slice(0, 2))}: ` : ''}${issue.message}`;
    fail(where, message);
  }
  const raw = parsed.data!;
  const defaultTimeoutMs = raw.timeout ?? 10_000;
  const intervalMs = raw.interval ?? 60_000;
  const names = new Set<string>();
  const probes = raw.probes.map((p, i): ProbeSpec => {
    const at = (key?: string) => lineOf(doc, lineCounter, key ? ['probes', i, key] : ['probes', i]);
    const kinds = KINDS.filter((k) => p[k] !== undefined);
    if (kinds.length !== 1) {
      fail(at(), `probe "${p.name}" must have exactly one of ${KINDS.join(', ')} (it has ${kinds.length ? kinds.join(' and ') : 'none'})`);
    }
    if (names.has(p.name)) fail(at('name'), `two probes are named "${p.name}"; give each a different name (the state is kept by name)`);
    names.add(p.name);
    const base = { name: p.name, intervalMs: p.interval ?? intervalMs, timeoutMs: p.timeout ?? defaultTimeoutMs };
    const kind = kinds[0]!;
    const httpOnly = (['method', 'headers', 'status', 'max_time', 'contains', 'json'] as const).find((k) => p[k] !== undefined);
    if (kind !== 'http' && httpOnly) fail(at(httpOnly), `"${httpOnly}" only applies to http probes, and "${p.name}" is a ${kind} probe`);
    switch (kind) {
      case 'http': {
        const equals = p.json?.equals;
        return {
          ...base, kind, url: p.http!, method: p.method ?? 'GET', headers: p.headers ?? {},
          status: p.status === undefined ? [] : [p.status].flat(),
          ...(p.max_time !== undefined && { maxTimeMs: p.max_time }),
          ...(p.contains !== undefined && { contains: p.contains }),
          ...(p.json && { json: { path: p.json.path, ...(equals !== undefined && { equals: [equals].flat() }) } }),
        };
      }
      case 'dns':
        return { ...base, kind, host: p.dns! };
      case 'tcp': {
        const cut = p.tcp!.lastIndexOf(':');
        const port = Number(p.tcp!.slice(cut + 1));
        if (port < 1 || port > 65535) fail(at('tcp'), `port ${port} of probe "${p.name}" is not between 1 and 65535`);
        return { ...base, kind, host: p.tcp!.slice(0, cut).replace(/^\[|\]$/g, ''), port };
      }
      case 'command':
        return { ...base, kind, command: p.command! };
    }
  });
  const [failed, of] = (raw.down_after ?? '3 of 4').trim().split(/\s+of\s+/).map(Number) as [number, number];
  if (failed < 1 || failed > of) fail(lineOf(doc, lineCounter, ['down_after']), `down_after "${raw.down_after}" needs 1 ≤ N ≤ M (e.g. "3 of 4")`);
  const agree = raw.agree ?? 2;
  if (agree > probes.length) {
    fail(lineOf(doc, lineCounter, raw.agree ? ['agree'] : ['probes']),
      `${agree} probes must agree before the service is called down, but only ${probes.length} ${probes.length === 1 ? 'is' : 'are'} listed; add an independent probe (another host or provider) or set agree: 1 (then one flaky endpoint pages the crisis team)`);
  }
  return {
    file, intervalMs, downAfter: { failed, of }, agree, upAfter: raw.up_after ?? 3, team: (raw.team ?? 'crisis-team').toLowerCase(), probes,
    ...(raw.service && { service: raw.service }),
    ...(raw.auto && {
      auto: {
        scenario: raw.auto.scenario, group: raw.auto.group.toLowerCase(),
        vars: Object.fromEntries(Object.entries(raw.auto.vars ?? {}).map(([k, v]) => [k, String(v)])),
      },
    }),
  };
}

/** The line of the deepest key or item on `path` that exists: a missing setting points at its parent's key. */
function lineOf(doc: Document, lineCounter: LineCounter, path: (string | number)[]): number {
  const line = (node: unknown) => {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  };
  for (let n = path.length; n >= 1; n -= 1) {
    const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((item) => (item.key as { value?: unknown } | null)?.value === path[n - 1]);
      const found = pair && line(pair.key);
      if (found) return found;
    }
    if (isSeq(parent) && typeof path[n - 1] === 'number') {
      const found = line(parent.items[path[n - 1] as number]);
      if (found) return found;
    }
  }
  return line(doc.contents) ?? 1;
}

/** `probes[1] ("status page").max_time` in words a user finds in their file. */
function label(doc: Document, path: (string | number)[]): string {
  if (path[0] === 'probes' && typeof path[1] === 'number') {
    const name = doc.getIn(['probes', path[1], 'name']);
    const probe = `probe ${typeof name === 'string' ? `"${name}"` : `#${path[1] + 1}`}`;
    return probe;
  }
  return path.join('.');
}
