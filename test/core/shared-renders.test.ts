/**
 * A template that reads nothing of the person is rendered once per language and escaping
 * and shared (core/render.ts); one that does — directly, through the whole context, or in
 * a partial — must still be rendered for each person.
 */
import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { contextFactory } from '../../src/core/context.js';
import { PlanRenders } from '../../src/core/render.js';
import { readsContact } from '../../src/core/template-paths.js';
import type { TemplateFile, TemplateSet } from '../../src/core/templates.js';
import type { Contact } from '../../src/core/types.js';

function set(partials: Record<string, string> = {}): TemplateSet {
  const handlebars = Handlebars.create();
  for (const [name, source] of Object.entries(partials)) handlebars.registerPartial(name, source);
  return { dir: 'templates', variables: {}, scenarios: new Map(), handlebars } as unknown as TemplateSet;
}
const file = (source: string): TemplateFile => ({ path: `drill/sms.hbs#${source}`, channel: 'sms', html: false, source, bodyLineOffset: 0 });
const person = (name: string, locale = 'en'): Contact => ({
  line: 2, name, role: '', groups: [], locale, extra: {}, key: name, columns: {}, addresses: {},
});

describe('readsContact', () => {
  const templates = set({ plain: 'Call {{hotline}}', greeting: 'Hello {{contact.name}}', nested: '{{> greeting}}!' });
  const _ = (source: string, expected: boolean) => () => expect(readsContact(templates, source)).toBe(expected);
  it('variables only', _('WhatsApp is down until {{eta}} ({{run.time}})', false));
  it('a contact field', _('Hello {{contact.name}}', true));
  it('a contact field inside a block', _('{{#with contact}}{{name}}{{/with}}', true));
  it('the whole context', _('{{lookup . "contact"}}', true));
  it('@root', _('{{@root.contact.name}}', true));
  it('a partial without the person', _('{{> plain}}', false));
  it('a partial with the person, two levels down', _('{{> nested}}', true));
  it('a partial it cannot find', _('{{> missing}}', true));
  it('a template that does not parse', _('{{#if eta}}', true));
});

describe('PlanRenders', () => {
  const templates = set({ greeting: 'Hello {{contact.name}}' });
  const render = (renders: PlanRenders, source: string, contact: Contact) => {
    const contextFor = contextFactory({ variables: { eta: '14:00' }, scenario: 'drill', runId: 'r', now: new Date('2026-11-30T03:00:00Z'), addressColumns: [] })(contact);
    const result = renders.render(file(source), 'body', undefined, contact.locale, () => contextFor(undefined));
    return result.ok ? result.value : result.problem.message;
  };

  it('renders a template with the person in a partial for each person', () => {
    const renders = new PlanRenders(templates);
    expect(render(renders, '{{> greeting}}, back at {{eta}}', person('Ann'))).toBe('Hello Ann, back at 14:00');
    expect(render(renders, '{{> greeting}}, back at {{eta}}', person('Bob'))).toBe('Hello Bob, back at 14:00');
  });

  it('shares one text between people of a language, and renders each language its own', () => {
    const renders = new PlanRenders(templates);
    const first = render(renders, 'Back at {{eta}} ({{run.time}})', person('Ann'));
    expect(render(renders, 'Back at {{eta}} ({{run.time}})', person('Bob'))).toBe(first);
    expect(render(renders, 'Back at {{eta}} ({{run.time}})', person('Chloé', 'fr'))).not.toBe(first);
  });

  it('says a failure again for each person rather than keeping it', () => {
    const renders = new PlanRenders(templates);
    expect(render(renders, 'Back at {{missing}}', person('Ann'))).toMatch(/missing/);
    expect(render(renders, 'Back at {{missing}}', person('Bob'))).toMatch(/missing/);
  });
});

describe('contexts by escaping', () => {
  const contextsOf = (contact: Contact, variables: Record<string, string> = { eta: '14:00' }) =>
    contextFactory({ variables, scenario: 'drill', runId: 'r', now: new Date('2026-11-30T03:00:00Z'), addressColumns: ['phone'] })(contact);
  const html = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const name = (context: Record<string, unknown>) => (context.contact as { name: string }).name;

  it('a person with nothing to escape shares one context between plain and escaped bodies', () => {
    const contextFor = contextsOf(person('Ann'));
    expect(contextFor(html)).toBe(contextFor(undefined));
    expect(name(contextFor(html))).toBe('Ann');
  });

  it('a person (or a variable) with markup gets an escaped copy; the plain context keeps it as written', () => {
    const contextFor = contextsOf({ ...person('Tom & <b>Jerry</b>'), groups: ['a&b'] });
    expect(name(contextFor(html))).toBe('Tom &amp; &lt;b>Jerry&lt;/b>');
    expect((contextFor(html).contact as { groups: string[] }).groups).toEqual(['a&amp;b']);
    expect(name(contextFor(undefined))).toBe('Tom & <b>Jerry</b>');
    const withVariable = contextsOf(person('Ann'), { eta: '<14:00>' });
    expect(withVariable(html).eta).toBe('&lt;14:00>');
    expect(withVariable(undefined).eta).toBe('<14:00>');
    expect(name(withVariable(html))).toBe('Ann');
  });
});
