/**
 * Roll call answers: what a scenario's `answers:` declares, and how a reply is read.
 *
 * A reply is read on its first word only, case-, accent- and whitespace-insensitively, so
 * " 1 ", "1 merci" and "1." all answer "1". An answer whose label is another answer's key
 * is an alias (`oui: "1"`). STOP/ARRET/UNSUBSCRIBE opt out. Anything else is unrecognised
 * and shown verbatim to the lead: a reply is never silently dropped.
 */
import type { Scenario } from './templates.js';
import type { Problem } from './types.js';

export interface Answers {
  /** Key as written in scenario.yaml → label ("1" → "safe"); aliases excluded. */
  labels: Record<string, string>;
  /** Normalised word → key: every key, and every alias. */
  words: Record<string, string>;
  /** Slack reaction name → key (`white_check_mark` → "1"). */
  reactions: Record<string, string>;
}

/** Words that opt a person out of further messages (Twilio's own STOP keywords included). */
export const OPT_OUT_WORDS = new Set(['stop', 'arret', 'arreter', 'unsubscribe', 'stopall', 'cancel', 'end', 'quit', 'desabonner']);

export type ReplyMeaning = { answer: string } | { optOut: true } | { unrecognised: true };

/** Lower case, accents off, trimmed: "  ARRÊT " → "arret". */
export function normalise(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim();
}

/** The first word of a reply, normalised; punctuation around it dropped ("1." → "1"). */
export function firstWord(text: string): string {
  const word = normalise(text).split(/\s+/)[0] ?? '';
  return word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
}

export function readReply(text: string, answers: Answers): ReplyMeaning {
  const word = firstWord(text);
  const key = answers.words[word];
  if (key !== undefined) return { answer: key };
  if (OPT_OUT_WORDS.has(word)) return { optOut: true };
  return { unrecognised: true };
}

export function readReaction(name: string, answers: Answers): ReplyMeaning {
  const key = answers.reactions[name.replace(/^:|:$/g, '').replace(/::skin-tone-\d$/, '')];
  return key === undefined ? { unrecognised: true } : { answer: key };
}

/**
 * `answers:` and `reactions:` from scenario.yaml → Answers, or the problems with them
 * (`where` names the file). Undefined `answers`: the scenario is not a roll call.
 */
export function parseAnswers(raw: unknown, rawReactions: unknown, where: string): { answers?: Answers; problems: Problem[] } {
  if (raw === undefined || raw === null) return { problems: [] };
  const problems: Problem[] = [];
  const fail = (message: string) => ({ problems: [...problems, { where, message, group: 'templates' }] });
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return fail('answers: must be a map of reply → meaning, like answers: {"1": safe, "2": needs help}.');
  }
  const entries = Object.entries(raw as Record<string, unknown>).map(([k, v]) => [String(k).trim(), String(v ?? '').trim()] as const);
  if (entries.length === 0) return fail('answers: is empty; list at least one reply, like answers: {"1": safe}.');
  const keys = new Set(entries.map(([k]) => k));
  const labels: Record<string, string> = {};
  const words: Record<string, string> = {};
  for (const [key, label] of entries) {
    const word = firstWord(key);
    if (word === '' || word !== normalise(key)) return fail(`answers: "${key}" must be one word (a reply is read on its first word).`);
    if (OPT_OUT_WORDS.has(word)) return fail(`answers: "${key}" is an opt-out word (STOP, ARRET…); choose another reply.`);
    if (label === '') return fail(`answers: "${key}" has no meaning; write one, like "${key}": safe.`);
    if (!keys.has(label)) labels[key] = label;
  }
  // An alias points to a key that is not itself an alias ("oui" → "1").
  for (const [key, label] of entries) words[firstWord(key)] = key in labels ? key : label;
  for (const [key, label] of entries) if (!(key in labels) && !(label in labels)) return fail(`answers: "${key}" points to "${label}", which is itself an alias; point it to one of ${Object.keys(labels).join(', ')}.`);
  const reactions: Record<string, string> = {};
  if (rawReactions !== undefined && rawReactions !== null) {
    if (typeof rawReactions !== 'object' || Array.isArray(rawReactions)) {
      return fail('reactions: must be a map of Slack reaction → answer, like reactions: {white_check_mark: "1"}.');
    }
    for (const [name, key] of Object.entries(rawReactions as Record<string, unknown>)) {
      const answer = words[firstWord(String(key))];
      if (answer === undefined) return fail(`reactions: ${name} points to "${String(key)}", which is not one of the answers (${Object.keys(labels).join(', ')}).`);
      reactions[name.replace(/^:|:$/g, '')] = answer;
    }
  }
  return { answers: { labels, words, reactions }, problems };
}

/**
 * A roll call's templates must tell people how to answer: every answer key must appear in
 * every template (as a word of its own: "1" in "Répondez 1", not in "10:00").
 */
export function answerKeysMissing(source: string, answers: Answers): string[] {
  const text = normalise(source);
  return Object.keys(answers.labels).filter((key) => {
    const k = normalise(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return !new RegExp(`(^|[^\\p{L}\\p{N}:])${k}($|[^\\p{L}\\p{N}:])`, 'u').test(text);
  });
}

/** `notify check`: every template of a roll call (and of its reminders) that does not say how to answer. */
export function answerProblems(scenario: Scenario): Problem[] {
  const answers = scenario.answers;
  if (!answers) return [];
  const problems: Problem[] = [];
  for (const set of [scenario, scenario.reminder]) {
    for (const file of set?.files.values() ?? []) {
      const missing = answerKeysMissing(`${file.subjectSource ?? ''}\n${file.source}`, answers);
      if (missing.length === 0) continue;
      problems.push({
        where: file.path, group: 'templates',
        message: `${scenario.name} is a roll call but this template never mentions the answer${missing.length > 1 ? 's' : ''} ${missing.map((k) => `"${k}"`).join(', ')}; tell people how to reply (e.g. "Reply ${Object.keys(answers.labels).map((k) => `${k} if ${answers.labels[k]}`).join(', ')}").`,
      });
    }
  }
  return problems;
}
