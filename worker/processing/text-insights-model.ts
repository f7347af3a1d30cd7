// The wink-eng-lite-web-model language model, loaded once per process and shared by every processing thread.
//
// The package's own entry loads its 2.9 MB core model as JSON in every thread that imports it, keeps that
// copy for good and hands wink-nlp a second one per NLP instance: about 20 MB of heap per thread. Here the
// process that starts the pool reads the core model once and moves its bulk into shared memory: the packed
// lexicon and contraction tables (typed arrays, read as they are) and the vocabulary (text-insights-lexemes.ts).
// A thread receives that through workerData and builds each NLP instance on it with only the model's small
// remainder (about 80 KB of JSON) and the words it learns itself. Results are the package's: a test compares
// them with an instance built the package's way.
import { readFileSync } from "node:fs";
import path from "node:path";
import { isMainThread, workerData } from "node:worker_threads";
import winkNLP from "wink-nlp";
import { indexOfWord, shareWords, wordAt, wordCount, type SharedWords } from "./text-insights-lexemes";

/** The model's data in shared memory (the typed arrays' buffers are SharedArrayBuffers) plus its small remainder. */
export interface SharedModel {
  /** The core model without its lexicon, contraction expansions and vocabulary, as JSON text. */
  remainder: string;
  lexicon: Uint32Array;
  xpansions: Uint32Array;
  words: SharedWords;
  /** [0]: NLP instances built on this copy so far, in every thread (Atomics). */
  instances: Int32Array;
}

/** What a pool thread's workerData carries for this module. */
export interface TextInsightsWorkerData {
  textInsightsModel: SharedModel;
}

const MODEL_DIR = path.dirname(require.resolve("wink-eng-lite-web-model"));

let shared: SharedModel | undefined;
let loads = 0;

/** The process's model: the one the pool handed this thread, else read here, once. */
export function sharedModel(): SharedModel {
  shared ??= handedToThisThread() ?? readSharedModel();
  return shared;
}

/** How many times this process read the core model from disk (a pool thread reads it never). */
export function modelLoads(): number {
  return loads;
}

function handedToThisThread(): SharedModel | undefined {
  if (isMainThread) return undefined;
  return (workerData as Partial<TextInsightsWorkerData> | undefined)?.textInsightsModel;
}

interface CoreJson {
  lexicon: string;
  xpansions: string;
  features: { lexeme: { list: string[] } } & Record<string, { list: unknown[] }>;
}

function readSharedModel(): SharedModel {
  loads++;
  const core = JSON.parse(readFileSync(path.join(MODEL_DIR, "languages/cur/models/eng-core-web-model.json"), "utf8")) as CoreJson;
  const { lexicon, xpansions, features } = core;
  const words = shareWords(features.lexeme.list);
  const remainder = JSON.stringify({ ...core, lexicon: undefined, xpansions: undefined, features: { ...features, lexeme: {} } });
  return { remainder, lexicon: sharedUint32s(lexicon), xpansions: sharedUint32s(xpansions), words, instances: new Int32Array(new SharedArrayBuffer(4)) };
}

function sharedUint32s(base64: string): Uint32Array {
  const bytes = Buffer.from(base64, "base64");
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return new Uint32Array(shared.buffer);
}

type Layout = Record<string, [number, number, number, number, number, number]>;
interface Feature {
  list: unknown[];
  hash?: Record<string, number>;
  intrinsicSize?: number;
  index?: number;
  maxIndex?: number;
}
interface Core {
  packing: { layout: Layout; efList: string[] };
  features: Record<string, Feature>;
  pos: { hash: Record<string, number> };
  lexicon: Uint32Array;
  xpansions: Uint32Array;
}

/**
 * The core model as wink-nlp expects it from the package's core(), built on the shared data: the same steps
 * as the package's read-core-model.js and load-core-model.js, with the vocabulary read from shared memory.
 */
function coreOn(model: SharedModel): Core {
  const core = JSON.parse(model.remainder) as Core;
  const { packing, features, pos } = core;
  core.lexicon = model.lexicon;
  core.xpansions = model.xpansions;
  packing.efList = [];
  for (const [name, layout] of Object.entries(packing.layout)) {
    const feature = features[name] as Feature;
    if (layout[3] === 0) {
      const hash: Record<string, number> = Object.create(null);
      feature.list.forEach((value, index) => (hash[String(value)] = index));
      feature.hash = hash;
      feature.intrinsicSize = feature.list.length;
      feature.index = feature.list.length;
      feature.maxIndex = layout[1] >>> layout[2];
    }
    if (layout[4] === 1) packing.efList.push(name);
  }
  const clusters = (features.posClusters as Feature).list;
  clusters.forEach((cluster, k) => {
    clusters[k] = new Set(String(cluster).split("_").map((tag) => pos.hash[tag] ?? 0));
  });
  features.lexeme = sharedVocabulary(model.words);
  Atomics.add(model.instances, 0, 1);
  return core;
}

/**
 * wink-nlp's lexeme feature (its `list` of words and `hash` from word to index) over the shared vocabulary. The
 * words one instance learns (ids, names, any unseen token) are kept beside it, in this thread, and counted in
 * `list.length` as wink's own list would count them. wink reads `hash[word]`, writes `hash[word] = index`, and
 * reads `list[index]`, `list.length` and `list.push`: anything else is an error, not a silently wrong result.
 */
function sharedVocabulary(words: SharedWords): Feature {
  const intrinsicSize = wordCount(words);
  const learned: string[] = [];
  const learnedIndex = new Map<string, number>();
  const decoded: string[] = [];
  const push = (...values: string[]) => {
    learned.push(...values);
    return intrinsicSize + learned.length;
  };
  const unexpected = (key: string) => new TypeError(`wink-nlp asked the shared vocabulary for "${key}", which it does not provide`);
  const list = new Proxy(learned, {
    get: (_, key) => {
      if (typeof key !== "string") return undefined;
      const index = Number(key);
      if (Number.isInteger(index)) return index < intrinsicSize ? (decoded[index] ??= wordAt(words, index)) : learned[index - intrinsicSize];
      if (key === "length") return intrinsicSize + learned.length;
      if (key === "push") return push;
      throw unexpected(`list.${key}`);
    },
    set: (_, key) => {
      throw unexpected(`list.${String(key)} =`);
    },
  });
  const hash = new Proxy(Object.create(null) as Record<string, number>, {
    get: (_, key) => (typeof key === "string" ? (indexOfWord(words, key) ?? learnedIndex.get(key)) : undefined),
    set: (_, key, value: number) => {
      learnedIndex.set(String(key), value);
      return true;
    },
  });
  return { list, hash, intrinsicSize, index: intrinsicSize };
}

/** An NLP instance on the process's shared model, and its vocabulary (which grows by the words it learns). */
export function newNlpInstance(): { nlp: WinkNlp; vocabulary: { list: { length: number }; intrinsicSize: number } } {
  let vocabulary: Feature | undefined;
  const parts = modelParts();
  const nlp = winkNLP({ ...parts, core: () => {
    const core = coreOn(sharedModel());
    vocabulary = core.features.lexeme;
    return core;
  } } as unknown as Parameters<typeof winkNLP>[0]);
  if (!vocabulary) throw new Error("wink-nlp did not load the model's core");
  return { nlp, vocabulary: { list: vocabulary.list, intrinsicSize: vocabulary.intrinsicSize ?? 0 } };
}

export type WinkNlp = ReturnType<typeof winkNLP>;

let parts: Record<string, unknown> | undefined;

/**
 * The package's entry (dist/model.js) without its core, loaded once per thread: these parts are small. Each
 * is required by its literal path, so the package shows as a run-time import of the worker (its image needs it).
 */
function modelParts(): Record<string, unknown> {
  if (parts) return parts;
  const metaCER = require("wink-eng-lite-web-model/dist/load-cer-meta-model.js") as () => unknown;
  let meta: unknown;
  parts = {
    sbd: require("wink-eng-lite-web-model/dist/load-sbd-model.js") as unknown,
    pos: require("wink-eng-lite-web-model/dist/load-pos-model.js") as unknown,
    ner: require("wink-eng-lite-web-model/dist/load-ner-model.js") as unknown,
    negation: require("wink-eng-lite-web-model/dist/load-negation-model.js") as unknown,
    sa: require("wink-eng-lite-web-model/dist/load-sa-model.js") as unknown,
    // Its loader JSON-encodes its (module-level) machines again on every call, so a second instance would get
    // them encoded twice, a third three times...: every instance gets the first call's result.
    metaCER: () => (meta ??= metaCER()),
    featureFn: require("wink-eng-lite-web-model/dist/feature.js") as unknown,
    addons: {
      stem: require("wink-eng-lite-web-model/dist/porter-stemmer.js") as unknown,
      lemmatize: require("wink-eng-lite-web-model/dist/lemmatize.js") as unknown,
      readabilityStats: require("wink-eng-lite-web-model/dist/readability-stats.js") as unknown,
      wordVectors: undefined,
    },
  };
  return parts;
}
