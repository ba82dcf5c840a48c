/**
 * Live progress per channel on a terminal: sent / failed / queued and the current rate,
 * redrawn in place a few times a second. Nothing at all when stderr is not a TTY, CI is
 * set or NO_COLOR asks for plain output — logs then get only the final report.
 */
import type { ProgressEvent } from './core/dispatch.js';
import type { ChannelName } from './core/types.js';
import { write } from './output.js';

const REDRAW_MS = 250;

interface Counts {
  total: number;
  sent: number;
  failed: number;
  retrying: number;
  startedAt: number;
  /** Set when the channel is done, so its rate stops decaying while others go on. */
  finishedAt?: number;
}

export interface Progress {
  onProgress(event: ProgressEvent): void;
  stop(): void;
}

export function createProgress(totals: Map<ChannelName, number>, options: { enabled: boolean }): Progress {
  if (!options.enabled || totals.size === 0) return { onProgress() {}, stop() {} };
  const counts = new Map<ChannelName, Counts>(
    [...totals].map(([channel, total]) => [channel, { total, sent: 0, failed: 0, retrying: 0, startedAt: Date.now() }]),
  );
  let drawn = 0;
  const draw = () => {
    const lines = [...counts].map(([channel, c]) => {
      const seconds = ((c.finishedAt ?? Date.now()) - c.startedAt) / 1000;
      const rate = seconds > 0 ? (c.sent / seconds).toFixed(1) : '0.0';
      const queued = c.total - c.sent - c.failed;
      return `  ${channel.padEnd(9)} ${String(c.sent).padStart(6)} sent · ${c.failed} failed · ${queued} queued · ${rate}/s${c.retrying ? ` · ${c.retrying} retries` : ''}`;
    });
    // Move up over the previous drawing and overwrite it.
    write(process.stderr, (drawn ? `\x1b[${drawn}A` : '') + lines.map((l) => `\x1b[2K${l}\n`).join(''));
    drawn = lines.length;
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  return {
    onProgress({ channel, status }) {
      const c = counts.get(channel);
      if (!c) return;
      if (status === 'delivered') c.sent += 1;
      else if (status === 'failed') c.failed += 1;
      else c.retrying += 1;
      if (c.sent + c.failed === c.total) c.finishedAt ??= Date.now();
    },
    stop() {
      clearInterval(timer);
      if (drawn) draw();
    },
  };
}

export function progressEnabled(ci: boolean): boolean {
  return Boolean(process.stderr.isTTY) && !ci && !process.env.NO_COLOR;
}
