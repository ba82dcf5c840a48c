/**
 * Twilio's Pricing API as the fake serves it (pricing.twilio.com/v1): per destination
 * country, the SMS prices per carrier and number type, and the voice prices per prefix,
 * in the documented shapes. The prices are made up; `FR` has two carriers so a reader
 * must pick one.
 */
import type { Answer, RecordedRequest } from './http-fake.js';

const SMS: Record<string, [carrier: string, price: string][]> = {
  FR: [['Orange', '0.0831'], ['SFR', '0.0790']],
  GB: [['Vodafone', '0.0463']],
};
const VOICE: Record<string, [name: string, price: string][]> = {
  FR: [['Programmable Outbound Minute - France', '0.0240'], ['Programmable Outbound Minute - France - Mobile', '0.0310']],
};
const NAMES: Record<string, string> = { FR: 'France', GB: 'United Kingdom' };

/** The answer to a Pricing API request, or undefined when the path is not one. */
export function pricingAnswer(req: RecordedRequest, base: string): Answer | undefined {
  const match = /^\/v1\/(Messaging|Voice)\/Countries\/([A-Z]{2})$/.exec(req.path);
  if (req.method !== 'GET' || !match) return undefined;
  const [, kind, iso] = match as unknown as [string, 'Messaging' | 'Voice', string];
  const rows = kind === 'Messaging' ? SMS[iso!] : VOICE[iso!];
  if (!rows) return { status: 404, json: { code: 20404, message: `The requested resource ${req.path} was not found`, more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 } };
  const common = { country: NAMES[iso!] ?? iso, iso_country: iso, price_unit: 'USD', url: `${base}${req.path}` };
  return {
    status: 200,
    json: kind === 'Messaging'
      ? {
          ...common,
          outbound_sms_prices: rows.map(([carrier, price], i) => ({
            carrier, mcc: '208', mnc: String(i + 1).padStart(2, '0'),
            prices: [{ number_type: 'mobile', base_price: price, current_price: price }],
          })),
          inbound_sms_prices: [{ number_type: 'mobile', base_price: '0.0075', current_price: '0.0075' }],
        }
      : {
          ...common,
          outbound_prefix_prices: rows.map(([friendly_name, price]) => ({ prefixes: ['33'], friendly_name, base_price: price, current_price: price })),
          inbound_call_prices: [{ number_type: 'local', base_price: '0.0085', current_price: '0.0085' }],
        },
  };
}
