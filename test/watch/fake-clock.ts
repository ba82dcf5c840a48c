/** A clock the test moves by hand: rounds, probe timeouts and sleeps happen when it says, never in real time. */
import type { Clock } from '../../src/commands/watch.js';

export class FakeClock implements Clock {
  private timers: { at: number; fire: () => void }[] = [];
  constructor(private time: number) {}

  now(): Date {
    return new Date(this.time);
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((done) => {
      this.timers.push({ at: this.time + ms, fire: done });
      signal.addEventListener('abort', () => done(), { once: true });
    });
  }

  timeout(ms: number, reason: string): AbortSignal {
    const controller = new AbortController();
    this.timers.push({ at: this.time + ms, fire: () => controller.abort(reason) });
    return controller.signal;
  }

  /** Move time forward, firing every timer now due. */
  advance(ms: number): void {
    this.set(this.time + ms);
  }

  set(time: number): void {
    this.time = time;
    const due = this.timers.filter((t) => t.at <= time);
    this.timers = this.timers.filter((t) => t.at > time);
    for (const t of due) t.fire();
  }
}
