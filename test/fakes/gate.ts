/**
 * What lets a test keep sends in flight and wait for what a fake saw, without the clock.
 * A fake answers a send only once its gate lets it through: `hold(after)` answers the
 * next `after` sends and keeps every later one waiting until `release()`. A test that
 * needs "the fake has it" waits on `until(...)`, which re-checks its condition on every
 * event the fake reports (a request arrived, an answer was held or let go), never on a
 * timer: a busy machine makes the test slower, not different.
 */
export interface Gate {
  /** Answer the next `after` sends, then hold every later one until `release()`. */
  hold(after?: number): void;
  /** Answer every held send now, and stop holding. */
  release(): void;
  /** Sends received in full and not answered: held by `hold()`, or hung by a `hang` fault. */
  held(): number;
  /** Resolves once `ready()` holds; re-checked on every event of the fake. */
  until(ready: () => boolean): Promise<void>;
}

/** The fake's side of a gate. */
export interface FakeGate extends Gate {
  /** A send is ready to be answered: resolves when it may be. `gone()` settles once the client has left. */
  pass(gone: () => Promise<void>): Promise<void>;
  /** A send that will never be answered (a `hang` fault): counted as held until `gone()` settles. */
  hang(gone: () => Promise<void>): void;
  /** Something the fake saw changed: wake up the waiting tests. */
  changed(): void;
}

export function createGate(): FakeGate {
  let holding = false;
  let allowance = 0;
  let held = 0;
  let waiting: (() => void)[] = [];
  const watchers = new Set<() => void>();

  const changed = () => {
    for (const check of [...watchers]) check();
  };
  /** Count a send as held until `answered` or `gone` settles, whichever is first. */
  const count = (answered: Promise<void>, gone: () => Promise<void>) => {
    held += 1;
    changed();
    void Promise.race([answered, gone()]).then(() => {
      held -= 1;
      changed();
    });
  };

  return {
    hold(after = 0) {
      holding = true;
      allowance = after;
    },
    release() {
      holding = false;
      const go = waiting;
      waiting = [];
      for (const answer of go) answer();
    },
    held: () => held,
    until: (ready) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!ready()) return;
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
      }),
    pass(gone) {
      if (!holding) return Promise.resolve();
      if (allowance > 0) {
        allowance -= 1;
        return Promise.resolve();
      }
      const answered = new Promise<void>((resolve) => waiting.push(resolve));
      count(answered, gone);
      return answered;
    },
    hang(gone) {
      count(new Promise<void>(() => {}), gone);
    },
    changed,
  };
}
