/**
 * `compute`, remembering its last answer. People sharing a template share its very text
 * (render.ts), and a plan asks the same question of a text several times in a row (its
 * check, its SMS segments for the blast radius): over 100,000 people the last answer is
 * usually the one asked for.
 */
export function lastAnswer<T>(compute: (text: string) => T): (text: string) => T {
  let lastText: string | undefined;
  let last: T;
  return (text) => {
    if (text !== lastText) {
      last = compute(text);
      lastText = text;
    }
    return last;
  };
}
