/**
 * Prices for the cost preview: `--prices FILE`, else `./prices.yaml`, else the example
 * prices shipped with the package (documented as examples in the file itself).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { Prices } from './core/blast-radius.js';
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
