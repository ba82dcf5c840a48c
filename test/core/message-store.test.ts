/**
 * The message store keeps a live run's rendered messages; each is read back only if it is
 * still what its planned record's digest says — including digests written by versions
 * that hashed the message as JSON, so a run planned before an upgrade can be resumed.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bodyJson, digestInput, fromDigestInput, legacyMessageDigest, messageDigest } from '../../src/core/chain.js';
import { MessageStore } from '../../src/core/message-store.js';
import { tempDir } from '../helpers/cli.js';

const body = { text: 'Élodie, WhatsApp est en panne.\n"Retour" prévu 14:00', subject: 'Panne' };

describe('message store', () => {
  it('gives a message back with the digest it was stored under', () => {
    const store = new MessageStore(join(tempDir(), 'run.messages'), { create: true });
    const { digest, place } = store.put(body);
    expect(digest).toBe(messageDigest(body));
    expect(store.get(place, digest)).toEqual(body);
  });

  it('keeps each message as its digest reads it, and refuses one changed in the file', () => {
    const path = join(tempDir(), 'run.messages');
    const store = new MessageStore(path, { create: true });
    const email = { text: 'Bonjour Zoé,\n"panne" 14:00', subject: 'Panne', html: '<p>Bonjour Zoé,</p>\n<p>14:00</p>' };
    const sms = { text: '1:2:3: 🚨' };
    const stored = [email, sms].map((b) => store.put(b));
    store.close();
    expect(readFileSync(path, 'utf8')).toBe(`${digestInput(email)}\n${digestInput(sms)}\n`);
    const reader = new MessageStore(path);
    expect(reader.get(stored[0]!.place, stored[0]!.digest)).toEqual(email);
    expect(reader.get(stored[1]!.place, stored[1]!.digest)).toEqual(sms);
    writeFileSync(path, readFileSync(path, 'utf8').replace('14:00', '18:00'));
    expect(new MessageStore(path).get(stored[0]!.place, stored[0]!.digest)).toBeUndefined();
  });

  it('reads back only what digestInput wrote', () => {
    expect(fromDigestInput(digestInput({ text: 'a:b', html: '<b>' }))).toEqual({ text: 'a:b', html: '<b>' });
    for (const bad of ['', '3:ab0:0:', '2:ab0:0:x', 'x:ab0:0:', '2:ab0:']) expect(fromDigestInput(bad)).toBeUndefined();
  });

  it('refuses a message whose text changed since it was checked (a store written as JSON lines)', () => {
    const path = join(tempDir(), 'run.messages');
    writeFileSync(path, bodyJson({ ...body, text: body.text.replace('14:00', '18:00') }) + '\n');
    const line = Buffer.byteLength(bodyJson(body)) + 1;
    expect(new MessageStore(path).get([0, line], messageDigest(body))).toBeUndefined();
  });

  it('accepts the digest of journals written before (SHA-256 of the message as JSON)', () => {
    const path = join(tempDir(), 'run.messages');
    appendFileSync(path, bodyJson(body) + '\n');
    const place: [number, number] = [0, Buffer.byteLength(bodyJson(body)) + 1];
    expect(legacyMessageDigest(body)).not.toBe(messageDigest(body));
    expect(new MessageStore(path).get(place, legacyMessageDigest(body))).toEqual(body);
  });

  it('hashes each part after its length, so moving text between parts changes the digest', () => {
    expect(messageDigest({ text: 'ab', subject: 'c' })).not.toBe(messageDigest({ text: 'a', subject: 'bc' }));
  });
});
