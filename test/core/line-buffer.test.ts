/**
 * Lines gathered before a write (core/line-buffer.ts): each line's length in bytes is what
 * lands in the file, lines keep their order, and one longer than the buffer goes out whole.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineBuffer } from '../../src/core/line-buffer.js';
import { tempDir } from '../helpers/cli.js';

describe('LineBuffer', () => {
  it('writes every line in order and tells each one\'s length in bytes', () => {
    const path = join(tempDir(), 'lines');
    const fd = openSync(path, 'w');
    const lines = new LineBuffer(() => fd, 64);
    const written = ['Zoé 🚨\n', 'x'.repeat(100) + '\n', 'short\n', 'é'.repeat(10) + '\n'];
    const lengths = written.map((line) => lines.addLine(line.slice(0, -1)));
    expect(lengths).toEqual(written.map((line) => Buffer.byteLength(line)));
    expect(lines.length).toBeGreaterThan(0); // the last line waits
    lines.flush();
    expect(lines.length).toBe(0);
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe(written.join(''));
  });
});

describe('LineBuffer, lines staged before they are kept', () => {
  it('keeps a staged line only when committed, in order with the others, a line longer than the buffer included', () => {
    const path = join(tempDir(), 'lines');
    const fd = openSync(path, 'w');
    const lines = new LineBuffer(() => fd, 32);
    expect(lines.addLine('first')).toBe(6);
    expect(lines.stage('dropped').toString()).toBe('dropped'); // staged, never committed
    const zoe = lines.stage('Zoé');
    expect(zoe.toString()).toBe('Zoé');
    expect(lines.commit(zoe)).toBe(5);
    const long = lines.stage('é'.repeat(40));
    expect(long.length).toBe(80);
    expect(lines.commit(long)).toBe(81);
    expect(lines.addLine('last')).toBe(5);
    lines.flush();
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe(`first\nZoé\n${'é'.repeat(40)}\nlast\n`);
  });
});
