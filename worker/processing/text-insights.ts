import { eventText } from "./event-text";
import type { EventInput } from "./processor";
import { newNlpInstance, type WinkNlp } from "./text-insights-model";

/**
 * Offline NLP on one event's text with wink-nlp and its English "lite web" model: sentiment, entities,
 * PII redaction and text statistics. CPU-bound: runs inside the worker-thread pool (text-insights-thread.ts).
 */
export interface TextInsights {
  sentiment: { score: number; label: "positive" | "negative" | "neutral" };
  entities: Array<{ type: string; value: string }>;
  pii: { emails: number; phones: number; urls: number; redactedText: string };
  stats: {
    characters: number;
    tokens: number;
    words: number;
    sentences: number;
    /** Flesch reading ease, as computed by the model. */
    readingEase: number;
    /** Share of words that are English stop words: near 0 suggests the text is not English. */
    englishStopWordRatio: number;
  };
}

/** Scores within this distance of 0 are called neutral (wink's sentence scores range over [-1, 1]). */
const NEUTRAL_BAND = 0.05;
/** wink's entity types that are personal data and get redacted: it detects emails and scheme URLs itself. */
const PII_ENTITY_TYPES = new Set(["EMAIL", "URL"]);

/**
 * wink-nlp adds every word it has not seen to its lexicon, which lives as long as the instance: text with
 * unique tokens (ids, hex strings, names) grew a thread's heap without bound (33 to 64 MB over 60,000
 * texts). After this many learned words the instance is replaced by a fresh one (about 100 ms to load);
 * repetitive text never gets there. Results do not depend on what an instance has learned before.
 */
export const MAX_LEARNED_WORDS = 50_000;

/** Analyses text with an NLP instance that is replaced once it has learned `maxLearnedWords` words. */
export function createTextAnalyzer(maxLearnedWords = MAX_LEARNED_WORDS): { analyze: (text: string) => TextInsights; learnedWords: () => number } {
  let loaded = newNlpInstance();
  const learnedWords = () => loaded.vocabulary.list.length - loaded.vocabulary.intrinsicSize;
  return {
    analyze: (text) => {
      if (learnedWords() >= maxLearnedWords) loaded = newNlpInstance();
      return analyzeWith(loaded.nlp, text);
    },
    learnedWords,
  };
}

// Built once per thread, at first import, on the process's shared model.
const analyzer = createTextAnalyzer();

export function analyzeEvent(input: EventInput): TextInsights {
  return analyzeText(eventText(input.body, "text-insights"));
}

export function analyzeText(text: string): TextInsights {
  return analyzer.analyze(text);
}

function analyzeWith(nlp: WinkNlp, text: string): TextInsights {
  const its = nlp.its;
  const doc = nlp.readDoc(text);
  const tokens = doc.tokens();
  const values = tokens.out(its.value);
  const spaces = tokens.out(its.precedingSpaces);
  const types = tokens.out(its.type);
  const stopWords = tokens.out(its.stopWordFlag) as unknown as boolean[];
  const pos = tokens.out(its.pos);
  const tokenStarts = tokenOffsets(values, spaces);

  const details = doc.entities().out(its.detail) as unknown as Array<{ value: string; type: string }>;
  const tokenSpans = doc.entities().out(its.span) as unknown as Array<[number, number]>;
  const found = details.map((detail, i) => {
    const [first, last] = tokenSpans[i] ?? [0, 0];
    const start = tokenStarts[first] ?? 0;
    const end = trimTrailingPunctuation(text, start, (tokenStarts[last] ?? 0) + (values[last]?.length ?? 0));
    return { type: detail.type, value: detail.value, start, end };
  });
  const pii = withoutOverlaps([
    ...found.filter(({ type }) => PII_ENTITY_TYPES.has(type)).map(({ type, start, end }) => ({ start, end, label: type })),
    ...regexSpans(text, WWW_URL, "URL"),
    ...phoneSpans(text),
  ]);
  // PII never appears in the entity list (the redacted text shows where it was), nor do the fragments
  // wink finds inside it, such as the CARDINAL numbers of a phone number.
  const entities = [
    ...found
      .filter(({ start, end }) => !pii.some((span) => start < span.end && end > span.start))
      .map(({ type, value }) => ({ type, value })),
    ...properNounEntities(values, pos),
  ];

  const words = types.filter((type) => type === "word");
  const stopWordCount = stopWords.filter((flag, i) => flag && types[i] === "word").length;
  const score = round(doc.out(its.sentiment) as unknown as number);
  const readability = doc.out(its.readabilityStats) as unknown as { fres: number };
  return {
    sentiment: { score, label: score > NEUTRAL_BAND ? "positive" : score < -NEUTRAL_BAND ? "negative" : "neutral" },
    entities,
    pii: {
      emails: pii.filter((s) => s.label === "EMAIL").length,
      phones: pii.filter((s) => s.label === "PHONE").length,
      urls: pii.filter((s) => s.label === "URL").length,
      redactedText: redact(text, pii),
    },
    stats: {
      characters: text.length,
      tokens: values.length,
      words: words.length,
      sentences: doc.sentences().length(),
      readingEase: readability.fres,
      englishStopWordRatio: words.length === 0 ? 0 : round(stopWordCount / words.length),
    },
  };
}

interface Span {
  start: number;
  end: number;
  label: string;
}

/** Character offset of each token: the model keeps each token's preceding whitespace, so the text re-assembles exactly. */
function tokenOffsets(values: string[], spaces: string[]): number[] {
  const starts: number[] = [];
  let cursor = 0;
  values.forEach((value, i) => {
    cursor += spaces[i]?.length ?? 0;
    starts.push(cursor);
    cursor += value.length;
  });
  return starts;
}

/** wink's URL tokens swallow a sentence's closing punctuation ("see https://x.org/docs."); keep it out. */
function trimTrailingPunctuation(text: string, start: number, end: number): number {
  let trimmed = end;
  while (trimmed > start && /[.,;:!?)\]'"]/.test(text.charAt(trimmed - 1))) trimmed--;
  return trimmed;
}

/**
 * The lite model has no person/organisation/place recogniser, so runs of proper nouns (by its part-of-speech
 * tagger) are reported as PROPER_NOUN entities, e.g. "John Smith", "Microsoft", "Paris".
 */
function properNounEntities(values: string[], pos: string[]): TextInsights["entities"] {
  const found: TextInsights["entities"] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length > 0) found.push({ type: "PROPER_NOUN", value: run.join(" ") });
    run = [];
  };
  values.forEach((value, i) => {
    if (pos[i] === "PROPN" && /\p{L}/u.test(value)) run.push(value);
    else flush();
  });
  flush();
  return found;
}

/** URLs without a scheme ("www.example.org/path"): wink only recognises URLs that start with a scheme. */
const WWW_URL = /\bwww\.[\p{L}\d-]+(?:\.[\p{L}\d-]+)+(?:\/[^\s]*[^\s.,;:!?)\]'"])?/gu;

/**
 * Phone numbers: wink splits them into unrelated CARDINAL numbers, so a regex finds them. A candidate is an
 * optional "+country" code, an optional "(area)" group, then 2-5 digit groups separated by one space, dot or
 * hyphen; it counts only with 7-15 digits in total (E.164's maximum is 15), and ISO dates (2024-03-12) are
 * skipped. It errs towards redacting: a long grouped number such as "12 345 678" is treated as a phone.
 */
const PHONE_CANDIDATE = /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,4}){1,4}(?![\w])/g;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function phoneSpans(text: string): Span[] {
  return regexSpans(text, PHONE_CANDIDATE, "PHONE").filter((span) => {
    const candidate = text.slice(span.start, span.end);
    const digits = candidate.replace(/\D/g, "").length;
    return digits >= 7 && digits <= 15 && !ISO_DATE.test(candidate);
  });
}

function regexSpans(text: string, pattern: RegExp, label: string): Span[] {
  return [...text.matchAll(pattern)].map((match) => ({ start: match.index, end: match.index + match[0].length, label }));
}

/** Keeps the earliest (then longest) span where spans overlap, e.g. digits inside a URL are not also a phone. */
function withoutOverlaps(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Span[] = [];
  for (const span of sorted) {
    const previous = kept.at(-1);
    if (previous === undefined || span.start >= previous.end) kept.push(span);
  }
  return kept;
}

function redact(text: string, spans: Span[]): string {
  let out = "";
  let cursor = 0;
  for (const span of spans) {
    out += text.slice(cursor, span.start) + `[${span.label}]`;
    cursor = span.end;
  }
  return out + text.slice(cursor);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
