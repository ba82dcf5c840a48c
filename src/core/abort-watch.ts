/**
 * One 'abort' listener on a long-lived signal, shared by every attempt and retry wait of
 * the run. A listener per attempt on the run's signals (every channel's sends in flight at
 * once: 17 by default) went past Node's limit of 10 and printed
 * "MaxListenersExceededWarning: Possible EventTarget memory leak" on every large send.
 */
export interface AbortWatch {
  signal: AbortSignal;
  /** Calls `callback` when the signal aborts, or at once if it has; returns what forgets it. */
  whenAborted(callback: () => void): () => void;
}

export function onAbort(signal: AbortSignal): AbortWatch {
  const callbacks = new Set<() => void>();
  signal.addEventListener('abort', () => {
    for (const callback of callbacks) callback();
    callbacks.clear();
  }, { once: true });
  return {
    signal,
    whenAborted(callback) {
      if (signal.aborted) {
        callback();
        return () => {};
      }
      callbacks.add(callback);
      return () => void callbacks.delete(callback);
    },
  };
}
