import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNEL_LIST, channelNamed } from '../../src/channels/index.js';
import { parseContacts } from '../../src/core/contacts.js';
import { buildPlan, type Delivery, type PlanInput } from '../../src/core/plan.js';
import { loadTemplateSet, parseFileName, resolveTemplate } from '../../src/core/templates.js';
import { resolveVariables } from '../../src/core/variables.js';
import { ROOT } from '../helpers/cli.js';

const templates = loadTemplateSet(join(ROOT, 'test/fixtures/templates-basic'), CHANNEL_LIST);
const outage = templates.scenarios.get('outage')!;
const contacts = parseContacts(
  'name,groups,phone,email,slack,telegram,locale,company\n' +
    'Ann,staff,06 39 98 00 01,ann@example.com,U0ANN,100000001,en,Initech\n' +
    'Bé,vip,06 39 98 00 02,,,,fr,\n' +
    'Carl,vip|staff,,carl@example.com,,,en,\n' +
    '<b>Tom & Jerry</b>,staff,06 39 98 00 04,tom@example.com,#crisis-room,100000004,en,"A<B"\n' +
    'Nobody,staff,,,,,fr,\n',
  'contacts.csv',
  { defaultRegion: 'FR', defaultLocale: 'fr', channels: CHANNEL_LIST },
).contacts;
/** The channels test/fixtures/templates-basic has templates for. */
const FIXTURE_CHANNELS = ['sms', 'email', 'slack', 'telegram'].map(channelNamed);

function plan(overrides: Partial<PlanInput> = {}) {
  const deliveries: Delivery[] = [];
  const result = buildPlan({
    runId: 'run-1', scenario: outage, templates, contacts,
    channels: FIXTURE_CHANNELS, variables: resolveVariables(templates, outage, {}, true).values,
    groups: [], contactNames: [], broadcasts: {}, limits: { maxSmsSegments: 2 },
    now: new Date('2026-11-25T01:14:00Z'), defaultLocale: 'fr', ...overrides,
  }, (d) => deliveries.push(d));
  return { ...result, deliveries };
}
const find = (p: ReturnType<typeof plan>, name: string, channel: string) =>
  p.deliveries.find((d) => d.contact.name === name && d.channel === channel);

describe('template file names', () => {
  const _ = (file: string, expected: unknown) => () => expect(parseFileName(file, CHANNEL_LIST)).toEqual(expected);
  it('generic', _('sms.hbs', { channel: 'sms', html: false }));
  it('locale', _('sms.fr.hbs', { channel: 'sms', html: false, locale: 'fr' }));
  it('audience', _('sms.vip.hbs', { channel: 'sms', html: false, audience: 'vip' }));
  it('audience and locale', _('email.vip.en.hbs', { channel: 'email', html: false, audience: 'vip', locale: 'en' }));
  it('html alternative', _('email.vip.en.html.hbs', { channel: 'email', html: true, audience: 'vip', locale: 'en' }));
  it('unknown channel', () => expect(parseFileName('fax.hbs', CHANNEL_LIST)).toMatch(/"fax" is not a channel/));
});

describe('template resolution falls back from the most specific file', () => {
  const _ = (groups: string[], locale: string, expected: string) => () =>
    expect(resolveTemplate(outage, 'sms', groups, locale)?.path).toMatch(new RegExp(`/${expected.replace(/\./g, '\\.')}$`));
  it('audience + locale', _(['vip'], 'fr', 'sms.vip.fr.hbs'));
  it('locale before audience', _(['staff'], 'fr', 'sms.fr.hbs'));
  it('audience when no locale file', _(['vip'], 'en', 'sms.vip.hbs'));
  it('generic last', _(['staff'], 'en', 'sms.hbs'));
  it('first matching group wins', _(['staff', 'vip'], 'en', 'sms.vip.hbs'));
});

describe('buildPlan', () => {
  it('plans one delivery per contact and channel where the contact can be reached', () => {
    const p = plan();
    expect(p.problems).toEqual([]);
    expect(p.deliveries.map((d) => `${d.contact.name}:${d.channel}`).sort()).toEqual([
      '<b>Tom & Jerry</b>:email', '<b>Tom & Jerry</b>:slack', '<b>Tom & Jerry</b>:sms', '<b>Tom & Jerry</b>:telegram',
      'Ann:email', 'Ann:slack', 'Ann:sms', 'Ann:telegram', 'Bé:sms', 'Carl:email',
    ]);
    expect(p.unreachable.map((c) => c.name)).toEqual(['Nobody']);
  });

  it('renders with variables, examples, contact columns and partials', () => {
    const p = plan();
    expect(find(p, 'Ann', 'sms')!.message.text).toBe('ACME & Co: down. ETA 14:00. https://status.example.com - Ann');
    expect(find(p, 'Bé', 'sms')!.message.text).toBe('VIP-FR Bé, retour 14:00');
    const mail = find(p, 'Ann', 'email')!.message;
    expect(mail.subject).toBe('ACME & Co outage for Ann');
    expect(mail.text).toBe('Hello Ann,\nCall us: ACME & Co');
    expect(mail.html).toBe('<p>Hello Ann</p>');
  });

  it('escapes values for each channel, so a name with markup reads literally', () => {
    const p = plan();
    const tom = (channel: string) => find(p, '<b>Tom & Jerry</b>', channel)!.message;
    expect(tom('sms').text).toContain('<b>Tom & Jerry</b>');
    expect(tom('email').text).toContain('Hello <b>Tom & Jerry</b>,');
    expect(tom('email').subject).toBe('ACME & Co outage for <b>Tom & Jerry</b>');
    expect(tom('email').html).toBe('<p>Hello &lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>');
    expect(tom('slack').text).toBe('*Outage* at ACME &amp; Co: &lt;b&gt;Tom &amp; Jerry&lt;/b&gt; <https://status.example.com|status>');
    expect(tom('telegram').text).toBe('<b>Outage</b> &lt;b&gt;Tom &amp; Jerry&lt;/b&gt; A&lt;B');
  });

  it('gives stable delivery ids: same run, contact and channel → same id', () => {
    const a = plan();
    const b = plan();
    expect(a.deliveries.map((d) => d.id)).toEqual(b.deliveries.map((d) => d.id));
    expect(new Set(a.deliveries.map((d) => d.id)).size).toBe(a.deliveries.length);
    expect(plan({ runId: 'run-2' }).deliveries[0]!.id).not.toBe(a.deliveries[0]!.id);
  });

  it('filters by channel, group and contact', () => {
    expect(plan({ channels: [channelNamed('sms')] }).deliveries.map((d) => d.contact.name).sort()).toEqual(['<b>Tom & Jerry</b>', 'Ann', 'Bé']);
    expect(new Set(plan({ groups: ['vip'] }).deliveries.map((d) => d.contact.name))).toEqual(new Set(['Bé', 'Carl']));
    expect(new Set(plan({ contactNames: ['ann'] }).deliveries.map((d) => d.contact.name))).toEqual(new Set(['Ann']));
  });

  it('reports unknown groups and names instead of planning nothing silently', () => {
    expect(plan({ groups: ['vipp'] }).problems[0]).toMatchObject({ where: '--group', message: expect.stringContaining('"vipp"') });
    expect(plan({ contactNames: ['Zoé'] }).problems[0]).toMatchObject({ where: '--contact' });
  });

  it('keeps counts and one preview per template, not the deliveries', () => {
    const p = plan();
    expect(p.messages).toBe(p.deliveries.length);
    expect(p.channels.get('sms')).toEqual({ messages: 3, people: 3, maxSmsSegments: 1, ucs2: 0 });
    expect(p.previews.map((d) => d.template.replace(/^.*\//, ''))).toEqual([
      'sms.hbs', 'email.hbs', 'slack.hbs', 'telegram.hbs', 'sms.vip.fr.hbs',
    ]);
  });

  it('sends each broadcast once', () => {
    const p = plan({ broadcasts: { slack: '#all-hands' } });
    const broadcasts = p.deliveries.filter((d) => d.message.to === '#all-hands');
    expect(broadcasts).toHaveLength(1);
    expect(broadcasts[0]!.contact.key).toBe('broadcast:slack');
  });

  it('reports an undeclared variable with file and line, once, with a count', () => {
    const broken = templates.scenarios.get('broken')!;
    const p = plan({ scenario: broken, channels: [channelNamed('sms'), channelNamed('email')] });
    const where = p.problems.map((x) => x.where.replace(/^.*fixtures\//, ''));
    expect(where).toContain('templates-basic/broken/sms.hbs:2');
    expect(where).toContain('templates-basic/broken/email.hbs:5');
    expect(p.problems.find((x) => x.where.endsWith("sms.hbs:2"))!.message).toMatch(/\{\{undeclared\}\}.*\(3 messages\)/);
    expect(p.problems.find((x) => x.where.endsWith('email.hbs:5'))!.message).toMatch(/not valid Handlebars near "first\{\{#if\}"/);
    expect(broken.badFiles[0]!.message).toMatch(/"fax" is not a channel/);
  });

  it('rejects SMS above the segment budget', () => {
    const long = resolveVariables(templates, outage, { eta: 'ê'.repeat(200) }, true).values;
    const p = plan({ variables: long, channels: [channelNamed('sms')] });
    expect(p.problems.length).toBeGreaterThan(0);
    expect(p.problems[0]!.group).toBe('limits');
  });
});

describe('variables', () => {
  it('examples fill in only for dry runs', () => {
    expect(resolveVariables(templates, outage, {}, true)).toMatchObject({ values: { eta: '14:00' }, missing: [], fromExamples: ['eta'] });
    expect(resolveVariables(templates, outage, {}, false)).toMatchObject({ missing: ['eta'] });
    expect(resolveVariables(templates, outage, { eta: '9h' }, false).values.eta).toBe('9h');
  });
});
