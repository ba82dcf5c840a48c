/**
 * Prices for the cost preview: `--prices FILE`, else `./prices.yaml`, else the example
 * prices shipped with the package (documented as examples in the file itself).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import * as z from 'zod';
import type { Config } from './config.js';
import type { Prices } from './core/blast-radius.js';
import type { Channel } from './core/channel.js';
import { displayPath } from './core/templates.js';
import { UserError } from './errors.js';
import { PACKAGE_ROOT } from './paths.js';

const PriceFile = z.object({ currency: z.string().min(1) }).catchall(z.record(z.string(), z.number().nonnegative()));

export function loadPrices(flag: string | undefined): Prices {
  const path = flag ? resolve(flag) : [resolve('prices.yaml'), resolve(PACKAGE_ROOT, 'prices.yaml')].find(existsSync);
  if (!path) throw new UserError('No prices.yaml was found; pass one with --prices FILE (see the prices.yaml shipped with crisis-notify).');
  const shipped = path === resolve(PACKAGE_ROOT, 'prices.yaml') && !flag;
  const shown = shipped ? 'example prices shipped with crisis-notify' : displayPath(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`${flag ? '--prices ' : ''}${shown} cannot be read (${(error as NodeJS.ErrnoException).code}); check the path.`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const line = doc.errors[0]!.linePos?.[0]?.line ?? 1;
    throw new UserError(`${shown}:${line}: not valid YAML (${doc.errors[0]!.message.split('\n')[0]}).`);
  }
  const parsed = PriceFile.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`${shown}: ${issue.path.join('.') || 'the file'} ${issue.message.toLowerCase()}; write prices like "sms: { FR: 0.0756, default: 0.08 }" and "currency: EUR".`);
  }
  const { currency, ...perUnit } = parsed.data;
  return { currency, source: shipped ? 'example prices shipped with crisis-notify: put yours in ./prices.yaml' : shown, perUnit: perUnit as Prices['perUnit'] };
}

/** Live prices are kept this long under .notify/ (Twilio changes them a few times a year). */
const CACHE_MS = 24 * 3_600_000;
const CACHE_FILE = join('.notify', 'prices-cache.json');

interface Cached {
  fetchedAt: string;
  currency: string;
  perUnit: Record<string, number>;
}

/**
 * `--live-prices`: each billed channel's provider prices for the countries the plan reaches,
 * read from its API (Twilio's Pricing API for SMS and calls) and cached for a day under
 * .notify/. A channel without credentials is one sentence naming the variables.
 */
export async function livePrices(needed: Map<Channel, string[]>, config: Config): Promise<Prices> {
  const cache = readCache();
  const perUnit: Prices['perUnit'] = {};
  let currency: string | undefined;
  for (const [channel, countries] of needed) {
    if (!channel.livePrices) continue;
    const missing = channel.missingConfig(config);
    if (missing.length > 0) throw new UserError(`--live-prices reads ${channel.name} prices from the provider, which needs ${missing.join(', ')}; set them, or leave --live-prices out to use prices.yaml.`);
    const fresh = cache[channel.name];
    const known = fresh && Date.now() - Date.parse(fresh.fetchedAt) < CACHE_MS ? fresh : undefined;
    const unknown = countries.filter((c) => known?.perUnit[c] === undefined);
    const fetched = unknown.length > 0 ? await channel.livePrices(config, unknown) : undefined;
    const entry: Cached = {
      fetchedAt: fetched ? new Date().toISOString() : known!.fetchedAt,
      currency: fetched?.currency ?? known!.currency,
      perUnit: { ...known?.perUnit, ...fetched?.perUnit },
    };
    cache[channel.name] = entry;
    perUnit[channel.name] = entry.perUnit;
    if (currency && currency !== entry.currency) throw new UserError(`--live-prices: the providers price in ${currency} and ${entry.currency}; use prices.yaml to compare them in one currency.`);
    currency = entry.currency;
  }
  writeCache(cache);
  return { currency: currency ?? 'USD', source: 'live prices from the providers, cached a day in .notify/', perUnit };
}

function readCache(): Record<string, Cached> {
  try {
    return JSON.parse(readFileSync(CACHE_FILE, 'utf8')) as Record<string, Cached>;
  } catch {
    return {}; // none yet, or unreadable: fetch again
  }
}

function writeCache(cache: Record<string, Cached>): void {
  try {
    mkdirSync('.notify', { recursive: true, mode: 0o700 });
    writeFileSync(CACHE_FILE, JSON.stringify(cache), { mode: 0o600 });
  } catch {
    // A cache that cannot be written costs a fetch next time, nothing more.
  }
}
