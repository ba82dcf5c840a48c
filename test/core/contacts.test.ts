import { describe, expect, it } from 'vitest';
import { CHANNEL_LIST } from '../../src/channels/index.js';
import { parseContacts } from '../../src/core/contacts.js';
import { UserError } from '../../src/errors.js';

const options = { defaultRegion: 'FR', defaultLocale: 'fr', channels: CHANNEL_LIST };
const parse = (text: string) => parseContacts(text, 'contacts.csv', options);

describe('parseContacts', () => {
  it('reads the canonical comma-separated file', () => {
    const { contacts, invalid } = parse(
      'name,role,groups,phone,email,slack,telegram,locale\n' +
        'Élodie Marchand,crisis-lead,staff|crisis-team,06 39 98 12 34,Elodie@Example.com,U0EXAMPLE1,100000001,fr\n',
    );
    expect(invalid).toEqual([]);
    expect(contacts).toEqual([
      {
        line: 2, name: 'Élodie Marchand', role: 'crisis-lead', groups: ['staff', 'crisis-team'], locale: 'fr', extra: {}, key: '+33639981234',
        columns: { phone: '+33639981234', email: 'elodie@example.com', slack: 'U0EXAMPLE1', telegram: '100000001' },
        addresses: { sms: '+33639981234', email: 'elodie@example.com', slack: 'U0EXAMPLE1', telegram: '100000001', voice: '+33639981234', signal: '+33639981234' },
      },
    ]);
  });

  it('reads a French Excel export: semicolons, BOM, CRLF, quoted fields', () => {
    const text = '\uFEFFname;role;groups;phone;email;slack;telegram;locale\r\n"Dupont; Jean";client;vip;+33 (0)6 39 98 00 01;;;;en\r\n';
    const { contacts } = parse(text);
    expect(contacts[0]).toMatchObject({ name: 'Dupont; Jean', columns: { phone: '+33639980001' }, locale: 'en', groups: ['vip'] });
  });

  it.each([
    ['06 39 98 12 34', '+33639981234'],
    ['0033 639981234', '+33639981234'],
    ['+33 6 39 98 12 34', '+33639981234'],
    ['+44 7700 900123', '+447700900123'],
    ['01.99.00.12.34', '+33199001234'],
  ])('normalises phone %s to %s', (raw, e164) => {
    expect(parse(`name,phone\nA,${raw}\n`).contacts[0]?.columns.phone).toBe(e164);
  });

  it('reports every bad row with its line and keeps the good ones', () => {
    const { contacts, invalid } = parse(
      'name,phone,email,slack,telegram,locale\n' +
        'Good,0639981234,,,,\n' +
        ',0639981235,,,,\n' +
        'Bad Phone,06 12,,,,\n' +
        'Bad Mail,,not-an-email,,,\n' +
        'Bad Slack,,,hello,,\n' +
        'Bad Tg,,,,@someone,\n' +
        'Bad Locale,,a@example.com,,,french\n',
    );
    expect(contacts.map((c) => c.name)).toEqual(['Good']);
    expect(invalid.map((p) => p.where)).toEqual([
      'contacts.csv:3', 'contacts.csv:4', 'contacts.csv:5', 'contacts.csv:6', 'contacts.csv:7', 'contacts.csv:8',
    ]);
    expect(invalid[1]!.message).toContain('"06 12" is not a valid number');
    expect(invalid[0]!.message).toContain('name is empty');
  });

  it('reaches the same person once: same phone or same email merges rows', () => {
    const { contacts, notices } = parse(
      'name,groups,phone,email,slack\n' +
        'Ann,staff,06 39 98 12 34,,\n' +
        'Ann B.,vip,+33639981234,ann@example.com,U0ANN\n' +
        'Bob,,,bob@example.com,\n' +
        'Robert,,,BOB@example.com,\n',
    );
    expect(contacts).toHaveLength(2);
    expect(contacts[0]).toMatchObject({ name: 'Ann', groups: ['staff', 'vip'], columns: { email: 'ann@example.com', slack: 'U0ANN' } });
    expect(contacts[0]!.addresses).toMatchObject({ email: 'ann@example.com', slack: 'U0ANN' });
    expect(notices.map((n) => n.where)).toEqual(['contacts.csv:3', 'contacts.csv:5']);
    expect(notices[0]!.message).toContain('same person as line 2');
  });

  it('keeps unknown columns as variables', () => {
    const { contacts } = parse('name,email,Company\nA,a@example.com,ACME\n');
    expect(contacts[0]!.extra).toEqual({ company: 'ACME' });
  });

  it('defaults the locale and lower-cases groups', () => {
    const { contacts } = parse('name,email,groups,locale\nA,a@example.com,Staff | VIP,\n');
    expect(contacts[0]).toMatchObject({ locale: 'fr', groups: ['staff', 'vip'] });
  });

  it('refuses a file without a name column, in one sentence naming the file', () => {
    expect(() => parse('nom,tel\nA,0612\n')).toThrow(UserError);
    expect(() => parse('nom,tel\nA,0612\n')).toThrow(/contacts\.csv:1: the header must have a "name" column/);
  });

  it('refuses a header-only file', () => {
    expect(() => parse('name,email\n')).toThrow(/has a header but no contacts/);
  });
});
