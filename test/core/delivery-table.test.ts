/**
 * The compact run state (src/core/delivery-table.ts): a dry run keeps no ids and reads them
 * back from its planned records the first time one is asked for; a live run indexes them as
 * it goes. Either way a record about a delivery finds that delivery and no other.
 */
import { describe, expect, it } from 'vitest';
import { readRun, type NewEntry } from '../../src/core/journal.js';
import { deliveryId } from '../../src/core/plan.js';
import { buildReport } from '../../src/core/report.js';
import { tempDir } from '../helpers/cli.js';
import { delivery, journalLines, planned, runRecord, writeJournal } from '../delivery/journals.js';

const RUN = '2026-11-30-0900-drill-dt01';

/** Person `n` on `channel`, with the hex id the planner gives. */
function hexDelivery(n: number, channel: 'sms' | 'email') {
  const d = delivery(RUN, n, channel);
  const id = deliveryId(RUN, d.contact.key, channel);
  return { ...d, id, message: { ...d.message, deliveryId: id } };
}

function journalOf(records: NewEntry[]): string {
  return writeJournal(tempDir('notify-table-'), RUN, journalLines(records));
}

describe('delivery ids in the compact run state', () => {
  const people = [0, 1, 2].flatMap((n) => [hexDelivery(n, 'sms'), hexDelivery(n, 'email')]);

  for (const dryRun of [true, false]) {
    it(`${dryRun ? 'a dry run reads its ids back' : 'a live run indexes its ids'}: a record settles the delivery it names`, () => {
      const target = people[3]!; // person 1's email
      const path = journalOf([
        runRecord(RUN, { dryRun }), ...people.map(planned),
        { kind: 'failed', id: target.id, attempt: 1, final: true, reason: 'mailbox full' } as NewEntry,
      ]);
      const table = readRun(path).states;
      expect(table.size).toBe(6);
      expect(table.ordinal(target.id)).toBe(3);
      expect(table.statusOf(3)).toBe('failed');
      expect(table.reasonOf(3)).toBe('mailbox full');
      expect([...table.keys()]).toEqual(people.map((d) => d.id));
      expect(table.get(people[4]!.id)?.delivery.contact.name).toBe('Person 2');
      expect(table.peopleCount).toBe(3);

      const report = buildReport(RUN, path, readRun(path));
      expect(report.channels.email).toMatchObject({ planned: 3, failed: 1, pending: 2 });
      expect(report.failures).toEqual([expect.objectContaining({ contact: 'Person 1', channel: 'email', reason: 'mailbox full' })]);
    });
  }

  it('an id planned twice: a live run keeps one delivery, a dry run finds the later one', () => {
    const again = { ...people[0]!, contact: { ...people[0]!.contact, name: 'Person 0 again' } };
    for (const dryRun of [true, false]) {
      const path = journalOf([runRecord(RUN, { dryRun }), ...people.map(planned), planned(again)]);
      const table = readRun(path).states;
      expect(table.size).toBe(dryRun ? 7 : 6);
      expect(table.get(again.id)?.delivery.contact.name).toBe('Person 0 again');
    }
  });

  it('people are counted once each, reached or not, from their numbers', () => {
    const path = journalOf([
      runRecord(RUN, { dryRun: false }), ...people.map(planned),
      ...[people[0]!, people[1]!].map((d): NewEntry => ({ kind: 'failed', id: d.id, attempt: 1, final: true, retryable: false, reason: 'down' })),
      { kind: 'delivered', id: people[2]!.id, attempt: 1 } as NewEntry,
    ]);
    const report = buildReport(RUN, path, readRun(path));
    expect(report.people).toEqual({ targeted: 3, reached: 1, notReached: 2 });
    expect(report.notReached.map((p) => p.contact)).toEqual(['Person 0', 'Person 2']);
    expect(report.notReached[0]!.reasons).toEqual(['sms: down', 'email: down']);
  });
});
