/**
 * Opt-outs: `.notify/suppressions.csv` (channel, address, when, run). A reply STOP/ARRET/
 * UNSUBSCRIBE, or Twilio's 21610 "unsubscribed recipient", adds the address; every later
 * plan skips suppressed addresses and lists them — unless the scenario says
 * `ignore_suppressions: true` (a safety roll call is not marketing), which the plan shows.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { UserError } from '../errors.js';
import type { ChannelName, Contact, Problem } from './types.js';

export const SUPPRESSIONS_FILE = join('.notify', 'suppressions.csv');
const HEADER = ['channel', 'address', 'when', 'run'];

export interface Suppression {
  channel: ChannelName;
  address: string;
  when: string;
  run: string;
}

const keyOf = (channel: string, address: string) => `${channel}\0${address.toLowerCase()}`;

export function readSuppressions(cwd = process.cwd()): Map<string, Suppression> {
  const path = join(cwd, SUPPRESSIONS_FILE);
  const list = new Map<string, Suppression>();
  if (!existsSync(path)) return list;
  let rows: Record<string, string>[];
  try {
    rows = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (error) {
    const line = (error as { lines?: number }).lines ?? 1;
    throw new UserError(`${SUPPRESSIONS_FILE}:${line}: not a valid CSV (${(error as Error).message.split('\n')[0]}); fix or delete that line.`);
  }
  for (const row of rows) {
    if (row.channel && row.address) list.set(keyOf(row.channel, row.address), { channel: row.channel, address: row.address, when: row.when ?? '', run: row.run ?? '' });
  }
  return list;
}

export function isSuppressed(list: Map<string, Suppression>, channel: ChannelName, address: string): Suppression | undefined {
  return list.get(keyOf(channel, address));
}

/** Add opt-outs not listed yet; returns those added. */
export function addSuppressions(entries: Suppression[], cwd = process.cwd()): Suppression[] {
  const known = readSuppressions(cwd);
  const fresh = entries.filter((e) => {
    const k = keyOf(e.channel, e.address);
    if (known.has(k)) return false;
    known.set(k, e);
    return true;
  });
  if (fresh.length === 0) return [];
  const path = join(cwd, SUPPRESSIONS_FILE);
  mkdirSync(join(cwd, '.notify'), { recursive: true, mode: 0o700 });
  const header = existsSync(path) ? '' : stringify([HEADER]);
  appendFileSync(path, header + stringify(fresh.map((e) => [e.channel, e.address, e.when, e.run])), { mode: 0o600 });
  return fresh;
}

/**
 * Contacts as a plan must see them: suppressed addresses removed (and listed), unless the
 * scenario ignores suppressions — which is said too, so the lead knows who opted out.
 * `apply` is called on each contact as the list streams by; `notices` fills as it goes
 * (once per person: a second pass over the list says nothing twice).
 */
export function suppressionsFor(list: Map<string, Suppression>, ignore: boolean): { apply(contact: Contact): Contact; notices: Problem[] } {
  const notices: Problem[] = [];
  const told = new Set<string>();
  const apply = (contact: Contact): Contact => {
    if (list.size === 0) return contact;
    const hit = Object.entries(contact.addresses).filter(([channel, address]) => isSuppressed(list, channel, address));
    if (hit.length === 0) return contact;
    const what = hit.map(([channel, address]) => `${channel} ${address} (opted out ${list.get(keyOf(channel, address))!.when.slice(0, 10)})`).join(', ');
    const tell = (notice: Problem) => {
      if (told.has(contact.key)) return;
      told.add(contact.key);
      notices.push(notice);
    };
    if (ignore) {
      tell({ where: `contacts line ${contact.line}`, message: `${contact.name}: ${what} still receives this scenario (ignore_suppressions: true).`, group: 'suppressions' });
      return contact;
    }
    tell({ where: `contacts line ${contact.line}`, message: `${contact.name}: skipped ${what}, listed in ${SUPPRESSIONS_FILE}.`, group: 'suppressions' });
    const addresses = Object.fromEntries(Object.entries(contact.addresses).filter(([channel, address]) => !isSuppressed(list, channel, address)));
    return { ...contact, addresses };
  };
  return { apply, notices };
}
