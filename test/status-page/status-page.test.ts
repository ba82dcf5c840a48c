import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HtmlValidate } from 'html-validate';
import { describe, expect, it } from 'vitest';
import {
  buildStatus, currentIncident, mailtoHref, safeHref, telHref, writeStatusPage, type PublishedRun, type StatusJson,
} from '../../src/core/status-page.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { writeIncident, writeResolved } from './fixtures.js';
import { parseXml, type XmlElement } from './xml.js';

const TEMPLATES = join(ROOT, 'templates');
const NOW = new Date('2026-03-12T16:00:00.000Z');

async function build(cwd: string, locale = 'fr') {
  const result = await writeStatusPage({ cwd, outDir: 'public', locale, templatesDir: TEMPLATES, now: NOW });
  const read = (name: string) => readFileSync(join(cwd, 'public', name), 'utf8');
  return { ...result, html: read('index.html'), status: JSON.parse(read('status.json')) as StatusJson, feed: read('feed.xml') };
}

/** Text of the page without tags, whitespace collapsed (entities left as they are). */
const textOf = (html: string) => html.replace(/<style>[\s\S]*?<\/style>/, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

async function expectValidHtml(html: string) {
  const report = await new HtmlValidate({ extends: ['html-validate:recommended'] }).validateString(html);
  const messages = report.results.flatMap((r) => r.messages.map((m) => `${m.line}:${m.column} ${m.ruleId}: ${m.message}`));
  expect(messages, messages.join('\n')).toEqual([]);
  expect(report.valid).toBe(true);
}

describe('the incident from the journal', () => {
  const run = (scenario: PublishedRun['scenario'], at: string, variables: Record<string, string> = {}): PublishedRun =>
    ({ runId: `${at}-${scenario}`, scenario, at, variables });
  const _ = (runs: PublishedRun[], expected: string[]) => () => expect(currentIncident(runs).map((r) => r.runId)).toEqual(expected);

  it('no runs, no incident', _([], []));
  it('an outage opens one', _([run('outage', 'a')], ['a-outage']));
  it('an outage after a resolved starts a new one',
    _([run('outage', 'a'), run('resolved', 'b'), run('outage', 'c'), run('update', 'd')], ['c-outage', 'd-update']));
  it('a repeated outage is part of the open incident', _([run('outage', 'a'), run('outage', 'b')], ['a-outage', 'b-outage']));
  it('an update with no outage seen still opens one', _([run('update', 'a')], ['a-update']));
  it('a second resolved stays with the incident it closes',
    _([run('outage', 'a'), run('resolved', 'b'), run('resolved', 'c')], ['a-outage', 'b-resolved', 'c-resolved']));

  it('keeps the latest ETA until resolved, then drops it', () => {
    const open = buildStatus([run('outage', '2026-01-01T09:00:00Z', { eta: '14:00' }), run('update', '2026-01-01T10:00:00Z', { progress: 'x' })], {}, NOW);
    expect(open).toMatchObject({ state: 'degraded', eta: '14:00', startedAt: '2026-01-01T09:00:00Z' });
    const closed = buildStatus([run('outage', '2026-01-01T09:00:00Z', { eta: '14:00' }), run('resolved', '2026-01-01T11:00:00Z')], {}, NOW);
    expect(closed).toMatchObject({ state: 'resolved', eta: null, resolvedAt: '2026-01-01T11:00:00Z' });
  });
});

describe('links are only made from safe values', () => {
  const _ = (fn: (v: string) => string | null, value: string, expected: string | null) => () => expect(fn(value)).toBe(expected);
  it('phone with spaces', _(telHref, '+33 1 99 00 12 34', 'tel:+33199001234'));
  it('national phone with dots', _(telHref, '01.99.00.12.34', 'tel:0199001234'));
  it('not a phone', _(telHref, 'call Bob', null));
  it('email', _(mailtoHref, 'support@example.com', 'mailto:support@example.com'));
  it('email with extra headers', _(mailtoHref, 'a@example.com?bcc=x@evil.example', null));
  it('javascript: never passes', _(safeHref, 'javascript:alert(1)', null));
  it('data: never passes', _(safeHref, 'data:text/html,<script>alert(1)</script>', null));
  it('https passes', _(safeHref, 'https://t.me/x', 'https://t.me/x'));
});

describe('outage → update → resolved', () => {
  // Each test gets its own folder: one of them adds a run, and none may depend on the others' order.
  const incident = () => {
    const cwd = tempDir('status-page-');
    writeIncident(cwd, { update: { slack_url: 'https://example.slack.com/archives/C0CRISIS' } });
    return cwd;
  };

  it('during the incident: still down, latest ETA, start of this incident, alternatives linked', async () => {
    const cwd = incident();
    const { state, html, files } = await build(cwd, 'fr');
    expect(state).toBe('degraded');
    expect(files.map((f) => f.slice(f.lastIndexOf('/') + 1))).toEqual(['index.html', 'status.json', 'feed.xml']);
    expect(readdirSync(join(cwd, 'public')).sort()).toEqual(['feed.xml', 'index.html', 'status.json']); // no temp files left

    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="fr">/);
    const text = textOf(html);
    expect(text).toContain('Toujours interrompu WhatsApp est toujours indisponible');
    expect(text).toContain('Retour prévu : 16:00');
    expect(text).not.toContain('23:5'); // the dry run and the update that reached nobody are not on the page
    expect(text).not.toContain('dry run only');
    expect(html).toContain('<time datetime="2026-03-12T09:00:00.000Z">'); // started with today's outage, not yesterday's
    expect(html).toContain('href="tel:+33199001234"');
    expect(html).toContain('href="mailto:support@example.com"');
    expect(html).toContain('href="https://t.me/example_status"');
    expect(html).toContain('href="https://example.slack.com/archives/C0CRISIS"');
    expect(html).not.toMatch(/<script/i);
  });

  it('status.json says the same', async () => {
    const { status } = await build(incident());
    expect(status).toMatchObject({
      version: 1, company: 'Exemple SARL', state: 'degraded', service: 'WhatsApp',
      startedAt: '2026-03-12T09:00:00.000Z', resolvedAt: null, eta: '16:00',
      lastUpdated: '2026-03-12T10:30:00.000Z', generatedAt: NOW.toISOString(), url: 'https://status.example.com/',
    });
    expect(status.alternatives).toEqual([
      { kind: 'phone', value: '+33 1 99 00 12 34', href: 'tel:+33199001234' },
      { kind: 'email', value: 'support@example.com', href: 'mailto:support@example.com' },
      { kind: 'telegram', value: 'https://t.me/example_status', href: 'https://t.me/example_status' },
      { kind: 'slack', value: 'https://example.slack.com/archives/C0CRISIS', href: 'https://example.slack.com/archives/C0CRISIS' },
    ]);
    expect(status.updates.map((u) => [u.scenario, u.at, u.eta, u.progress])).toEqual([
      ['update', '2026-03-12T10:30:00.000Z', '16:00', 'the provider has found the fault'],
      ['outage', '2026-03-12T09:00:00.000Z', '14:00', null],
    ]);
  });

  it('after resolved: the timeline is newest first and the ETA is gone', async () => {
    const cwd = incident();
    writeResolved(cwd);
    const { state, html, status, feed } = await build(cwd, 'en');
    expect(state).toBe('resolved');
    expect(html).toMatch(/<html lang="en">/);
    const text = textOf(html);
    expect(text).toContain('Service restored');
    expect(text).toContain('WhatsApp is working again.');
    expect(text).not.toContain('Expected back: 16:00');
    expect(status).toMatchObject({ state: 'resolved', eta: null, resolvedAt: '2026-03-12T15:00:00.000Z', lastUpdated: '2026-03-12T15:00:00.000Z' });

    const order = ['Resolved: WhatsApp is working again', 'Update: WhatsApp still unavailable', 'Incident: WhatsApp unavailable']
      .map((title) => html.indexOf(`<h3>${title}</h3>`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain('the provider has found the fault New expected recovery time: 16:00');

    expect(feed).toContain('<title>Resolved: WhatsApp is working again</title>');
  });

  it('passes html-validate in French and in English', async () => {
    const cwd = incident();
    await expectValidHtml((await build(cwd, 'fr')).html);
    await expectValidHtml((await build(cwd, 'en')).html);
  });
});

describe('hostile values are text, never markup or links', () => {
  const hostile = () => {
    const cwd = tempDir('status-page-xss-');
    // The latest run's values win, so the hostile ones go in the update.
    writeIncident(cwd, {
      update: {
        service: '<script>alert("svc")</script>', telegram_url: 'javascript:alert(1)', hotline: '"><img src=x onerror=alert(1)>',
        progress: 'fixed <script>alert(1)</script> & "quoted"', slack_url: 'JavaScript:alert(2)', eta: '<b>16:00</b>',
      },
    });
    return cwd;
  };

  it('escapes every value in the page and links nothing unsafe', async () => {
    const { html, status } = await build(hostile(), 'fr');
    expect(html).not.toMatch(/<script|<img|<b>|onerror=alert|href="javascript/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;');
    expect(html).toContain('&lt;b&gt;16:00&lt;/b&gt;');
    expect(html).toContain('&lt;script&gt;alert(&quot;svc&quot;)&lt;/script&gt;');
    expect(html).toMatch(/&quot;&gt;&lt;img\u00a0src&#x3D;x\u00a0onerror&#x3D;alert\(1\)&gt;/); // no-break spaces: it is the phone
    expect(textOf(html)).toContain('javascript:alert(1)'); // shown, so people see what was sent
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    expect(hrefs.every((h) => /^(https?:|tel:|mailto:|feed\.xml$|status\.json$)/.test(h!)), hrefs.join(' ')).toBe(true);
    expect(status.alternatives.filter((a) => a.href === null).map((a) => a.kind)).toEqual(['phone', 'telegram', 'slack']);
    await expectValidHtml(html);
  });

  it('escapes them in the feed too', async () => {
    const { feed } = await build(hostile(), 'en');
    const root = parseXml(feed);
    const entries = root.children.filter((c) => c.name === 'entry');
    expect(child(entries[0]!, 'content').text).toContain('fixed <script>alert(1)</script> & "quoted"');
    expect(child(root, 'title').text).toBe('Exemple SARL · Service status');
  });
});

describe('no runs at all', () => {
  it('still builds a page that says there is no incident, with the ways to reach us', async () => {
    const cwd = tempDir('status-page-calm-');
    const fr = await build(cwd, 'fr');
    expect(fr.state).toBe('operational');
    expect(textOf(fr.html)).toContain('Aucun incident en cours');
    expect(fr.html).toContain('href="tel:+33199001234"'); // from templates/variables.yaml
    expect(fr.html).not.toContain('Historique');
    expect(fr.status).toMatchObject({ state: 'operational', startedAt: null, eta: null, updates: [], lastUpdated: NOW.toISOString() });
    expect(child(parseXml(fr.feed), 'updated').text).toBe(NOW.toISOString());
    await expectValidHtml(fr.html);
    const en = await build(cwd, 'en');
    expect(textOf(en.html)).toContain('No ongoing incident');
    await expectValidHtml(en.html);
  });

  it("a team's own status-page/ overrides the shipped texts key by key", async () => {
    const templates = tempDir('status-page-own-');
    mkdirSync(join(templates, 'status-page'));
    writeFileSync(join(templates, 'variables.yaml'), 'company: { value: "ACME <Corp>", description: x }\n');
    writeFileSync(join(templates, 'status-page', 'strings.fr.yaml'), 'states:\n  operational: Tout va bien\n');
    const cwd = tempDir();
    await writeStatusPage({ cwd, outDir: 'out', locale: 'fr', templatesDir: templates });
    const html = readFileSync(join(cwd, 'out', 'index.html'), 'utf8');
    expect(html).toContain('Tout va bien');
    expect(html).not.toContain('Aucun incident');
    expect(html).toContain('Dernière mise à jour'); // untouched keys keep the shipped text
    expect(html).toContain('<title>ACME &lt;Corp&gt; · État du service</title>');
  });

  it('refuses a locale it has no texts for, naming --locale', async () => {
    await expect(writeStatusPage({ cwd: tempDir(), outDir: 'x', locale: 'de', templatesDir: TEMPLATES })).rejects.toThrow(/--locale (en or fr|fr or en)/);
  });
});

// ─────────────── Atom 1.0 (RFC 4287) structure ───────────────

const ATOM = 'http://www.w3.org/2005/Atom';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const IRI = /^(urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|https?:\/\/\S+)$/;

function children(el: XmlElement, name: string) {
  return el.children.filter((c) => c.name === name);
}
function child(el: XmlElement, name: string): XmlElement {
  const found = children(el, name);
  if (found.length !== 1) throw new Error(`<${el.name}> must have exactly one <${name}>, has ${found.length}`);
  return found[0]!;
}

/** The MUSTs of RFC 4287 that apply to what we write. */
function expectValidAtom(feed: string) {
  const root = parseXml(feed);
  expect(root.name).toBe('feed');
  expect(root.attributes.xmlns).toBe(ATOM);
  expect(child(root, 'id').text).toMatch(IRI);
  expect(child(root, 'title').text.trim()).not.toBe('');
  expect(child(root, 'updated').text).toMatch(RFC3339);
  expect(child(child(root, 'author'), 'name').text.trim()).not.toBe(''); // feed-level author covers every entry
  const links = children(root, 'link');
  expect(links.filter((l) => l.attributes.rel === 'alternate' && l.attributes.type === 'text/html')).toHaveLength(1);
  expect(links.filter((l) => l.attributes.rel === 'self')).toHaveLength(1);
  const entries = children(root, 'entry');
  const ids = entries.map((e) => child(e, 'id').text);
  expect(new Set(ids).size).toBe(ids.length);
  for (const entry of entries) {
    expect(child(entry, 'id').text).toMatch(IRI);
    expect(child(entry, 'title').text.trim()).not.toBe('');
    expect(child(entry, 'updated').text).toMatch(RFC3339);
    expect(child(entry, 'content').attributes.type).toBe('text');
  }
  return { root, entries };
}

describe('feed.xml', () => {
  it('is well-formed Atom 1.0 with one entry per update, newest first, ids stable across rebuilds and locales', async () => {
    const cwd = tempDir('status-page-feed-');
    writeIncident(cwd);
    writeResolved(cwd);
    const fr = expectValidAtom((await build(cwd, 'fr')).feed);
    const en = expectValidAtom((await build(cwd, 'en')).feed);
    expect(fr.root.attributes['xml:lang']).toBe('fr');
    expect(fr.entries.map((e) => child(e, 'updated').text)).toEqual([
      '2026-03-12T15:00:00.000Z', '2026-03-12T10:30:00.000Z', '2026-03-12T09:00:00.000Z',
    ]);
    expect(child(fr.root, 'updated').text).toBe('2026-03-12T15:00:00.000Z');
    expect(fr.entries.map((e) => child(e, 'id').text)).toEqual(en.entries.map((e) => child(e, 'id').text));
    expect(child(fr.entries[1]!, 'content').text).toBe('the provider has found the fault\nNouvelle heure de retour prévue\u00a0: 16:00');
  });

  it('the test parser rejects what is not well-formed', () => {
    for (const bad of ['<a><b></a>', '<a>x & y</a>', '<a x=1/>', '<a/><b/>', '<a>&nbsp;</a>', '<a>']) {
      expect(() => parseXml(bad), bad).toThrow();
    }
  });
});
