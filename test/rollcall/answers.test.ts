/** Reading replies and checking roll-call templates: pure, one line per case. */
import { describe, expect, it } from 'vitest';
import { answerKeysMissing, parseAnswers, readReaction, readReply } from '../../src/core/answers.js';

const { answers } = parseAnswers({ '1': 'safe', '2': 'needs help', oui: '1', yes: '1' }, { white_check_mark: '1', sos: '2' }, 'drill/scenario.yaml');

describe('readReply', () => {
  const cases: [string, unknown][] = [
    ['1', { answer: '1' }], [' 1 ', { answer: '1' }], ['1 merci', { answer: '1' }], ['1.', { answer: '1' }],
    ['2\nje suis bloqué', { answer: '2' }], ['OUI', { answer: '1' }], ['Yes!', { answer: '1' }],
    ['STOP', { optOut: true }], ['Arrêt', { optOut: true }], ['unsubscribe', { optOut: true }],
    ['?', { unrecognised: true }], ['12', { unrecognised: true }], ['', { unrecognised: true }],
  ];
  for (const [text, meaning] of cases) it(JSON.stringify(text), () => expect(readReply(text, answers!)).toEqual(meaning));
  it('reactions', () => {
    expect(readReaction('sos', answers!)).toEqual({ answer: '2' });
    expect(readReaction('thumbsup', answers!)).toEqual({ unrecognised: true });
  });
});

describe('parseAnswers', () => {
  it('keeps labels apart from aliases', () => expect(answers!.labels).toEqual({ '1': 'safe', '2': 'needs help' }));
  it('refuses a multi-word key', () => expect(parseAnswers({ 'je vais bien': 'safe' }, undefined, 'x').problems[0]!.message).toMatch(/one word/));
  it('refuses STOP as an answer', () => expect(parseAnswers({ stop: 'safe' }, undefined, 'x').problems[0]!.message).toMatch(/opt-out/));
  it('refuses a reaction to an unknown answer', () => expect(parseAnswers({ '1': 'safe' }, { sos: '3' }, 'x').problems[0]!.message).toMatch(/not one of the answers/));
  it('no answers: not a roll call', () => expect(parseAnswers(undefined, undefined, 'x')).toEqual({ problems: [] }));
});

describe('answerKeysMissing', () => {
  it('finds keys as words of their own', () => expect(answerKeysMissing('Répondez 1 si…, 2 sinon', answers!)).toEqual([]));
  it('a time is not an answer', () => expect(answerKeysMissing('exercice de 10:12, répondez 1', answers!)).toEqual(['2']));
});
