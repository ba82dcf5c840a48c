import { describe, expect, it } from 'vitest';
import { gsmEquivalent, smsLength } from '../../src/core/sms-encoding.js';

const _ = (text: string, expected: Partial<ReturnType<typeof smsLength>>) => () => expect(smsLength(text)).toMatchObject(expected);

describe('smsLength', () => {
  it('empty message', _('', { encoding: 'GSM-7', units: 0, segments: 0 }));
  it('plain ASCII is GSM-7', _('Hello', { encoding: 'GSM-7', units: 5, segments: 1 }));
  it('160 GSM-7 characters fit one segment', _('a'.repeat(160), { units: 160, segments: 1 }));
  it('161 GSM-7 characters need two (153 each)', _('a'.repeat(161), { segments: 2 }));
  it('306 GSM-7 characters fit two segments', _('a'.repeat(306), { segments: 2 }));
  it('307 GSM-7 characters need three', _('a'.repeat(307), { segments: 3 }));
  it('é è à ù are GSM-7, ê is not', _('Réseau rétabli à 14h, où êtes', { encoding: 'UCS-2', nonGsmChar: 'ê' }));
  it('é alone stays GSM-7', _('Le réseau est rétabli là', { encoding: 'GSM-7' }));
  it('capital Ç is GSM-7', _('Ça', { encoding: 'GSM-7', units: 2 }));
  it('lower-case ç forces UCS-2', _('reçu', { encoding: 'UCS-2', nonGsmChar: 'ç', units: 4, segments: 1 }));
  it('â î ô û force UCS-2', _('âîôû', { encoding: 'UCS-2', nonGsmChar: 'â' }));
  it('70 UCS-2 units fit one segment', _('ê'.repeat(70), { units: 70, segments: 1 }));
  it('71 UCS-2 units need two (67 each)', _('ê'.repeat(71), { segments: 2 }));
  it('135 UCS-2 units need three', _('ê'.repeat(135), { segments: 3 }));
  it('extension characters count double', _('€'.repeat(80), { encoding: 'GSM-7', units: 160, segments: 1 }));
  it('81 euro signs overflow one segment', _('€'.repeat(81), { units: 162, segments: 2 }));
  it('brackets and braces are extension characters', _('[]{}', { units: 8 }));
  it('an emoji is two UCS-2 units', _('ok 👍', { encoding: 'UCS-2', units: 5 }));
  it('curly quotes force UCS-2', _('it’s down', { encoding: 'UCS-2', nonGsmChar: '’' }));
  // 306 septets would fit two 153-septet segments, but the euro's escape pair cannot straddle them.
  it('an extension character is never split across segments', _(`${'x'.repeat(152)}€${'x'.repeat(152)}`, { units: 306, segments: 3 }));
  it('a surrogate pair is never split across UCS-2 segments', _(`${'ê'.repeat(66)}👍${'ê'.repeat(66)}`, { units: 134, segments: 3 }));
});

describe('gsmEquivalent', () => {
  it.each([
    ['prêt à 14h', 'pret à 14h'],
    ['it’s down — back soon…', "it's down - back soon..."],
    ['ok 👍', 'ok ?'],
  ])('%s → %s', (text, plain) => expect(gsmEquivalent(text)).toBe(plain));
});
