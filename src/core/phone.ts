import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { AddressColumn } from './channel.js';

/**
 * Ranges regulators reserve for fiction and documentation (ARCEP in France, Ofcom in the
 * UK, NANP 555-01xx). libphonenumber rightly calls them unallocated, but the shipped
 * example list and the tests need numbers that can never ring a real person.
 */
const FICTIONAL = [
  /^\+33(?:199 00|261 91|353 01|465 71|536 49|639 98|995 55)\d{4}$/.source.replace(/ /g, ''),
  /^\+447700900\d{3}$/.source,
  /^\+44207946\d{4}$/.source,
  /^\+1\d{3}55501\d{2}$/.source,
].map((s) => new RegExp(s));

/**
 * Normalise a phone number written any common way (`06 12 34 56 78`, `+33 (0)6…`,
 * `0033 6…`) to E.164. Returns undefined when it is not a valid number.
 */
export function toE164(raw: string, defaultRegion: string): string | undefined {
  return parsePhone(raw, defaultRegion)?.e164;
}

/** E.164 form, and whether it is certainly a landline (an SMS to it fails: Twilio 21614). */
export function parsePhone(raw: string, defaultRegion: string): { e164: string; landline: boolean } | undefined {
  // "+33 (0)6 12…": the "(0)" is the national trunk prefix some people write after the
  // country code; it must go, or the number gets one digit too many.
  const cleaned = raw.replace(/\(0\)/g, '').replace(/^\s*00/, '+').trim();
  const parsed = parsePhoneNumberFromString(cleaned, defaultRegion as CountryCode);
  if (!parsed) return undefined;
  // With "max" metadata a number is valid exactly when it has a type (libphonenumber's own
  // isValid() asks getType()): one lookup instead of two, which matters over 100,000 rows.
  const type = parsed.getType();
  const valid = type !== undefined || (parsed.isPossible() && FICTIONAL.some((r) => r.test(parsed.number)));
  return valid ? { e164: parsed.number, landline: type === 'FIXED_LINE' } : undefined;
}

const countries = new Map<string, string | undefined>();
/**
 * The country (ISO 3166 code) an E.164 number belongs to, for prices. Cached by its first
 * six characters, which settle the country everywhere but in shared plans like +1's, where
 * prices differ little: a 100,000-person plan parses a few dozen numbers, not 100,000.
 */
export function countryOf(e164: string): string | undefined {
  const prefix = e164.slice(0, 6);
  if (!countries.has(prefix)) {
    // Fiction ranges and new ranges have no country of their own: the calling code's main one.
    const parsed = parsePhoneNumberFromString(e164);
    countries.set(prefix, parsed?.country ?? parsed?.getPossibleCountries()[0]);
  }
  return countries.get(prefix);
}

/** The `phone` column, read by every channel that reaches a phone number (SMS, voice, Signal). */
export const phoneColumn: AddressColumn = {
  name: 'phone',
  example: '+33639980000', // a fictional range (ARCEP)
  parse(raw, { defaultRegion }) {
    const parsed = parsePhone(raw, defaultRegion);
    if (!parsed) return `phone "${raw}" is not a valid number for region ${defaultRegion}; write it in international form like +33 6 12 34 56 78.`;
    return { value: parsed.e164, ...(parsed.landline && { landline: true }) };
  },
};
