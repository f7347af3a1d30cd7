/**
 * The language model's vocabulary (87,593 words) as one read-only table in shared memory, so every processing
 * thread reads the same copy instead of holding its own array and hash of the words (about 6 MB of heap each).
 * An open-addressing hash table over UTF-16 text: a word's index is found without creating a string, and a
 * word is decoded from its index when wink-nlp asks for it.
 */
export interface SharedWords {
  /** Start of word i's characters in `chars`; word i ends where word i + 1 starts. */
  readonly starts: Uint32Array;
  readonly chars: Uint16Array;
  /** Power-of-two sized; each slot holds a word's index + 1, or 0 when empty. */
  readonly slots: Int32Array;
}

/** Builds the table (in the process that loads the model; typed arrays over SharedArrayBuffers cross to threads as they are). */
export function shareWords(words: readonly string[]): SharedWords {
  const starts = new Uint32Array(new SharedArrayBuffer((words.length + 1) * Uint32Array.BYTES_PER_ELEMENT));
  let length = 0;
  words.forEach((word, i) => {
    starts[i] = length;
    length += word.length;
  });
  starts[words.length] = length;
  const chars = new Uint16Array(new SharedArrayBuffer(length * Uint16Array.BYTES_PER_ELEMENT));
  words.forEach((word, i) => {
    const start = starts[i] as number;
    for (let c = 0; c < word.length; c++) chars[start + c] = word.charCodeAt(c);
  });
  // At most half full, so a probe sequence stays short.
  const slots = new Int32Array(new SharedArrayBuffer(2 ** Math.ceil(Math.log2(words.length * 2 + 1)) * Int32Array.BYTES_PER_ELEMENT));
  const table = { starts, chars, slots };
  words.forEach((word, i) => {
    let slot = hash(word) & (slots.length - 1);
    while (slots[slot] !== 0) {
      if (sameWord(table, (slots[slot] as number) - 1, word)) throw new Error(`the model's vocabulary lists "${word}" twice`);
      slot = (slot + 1) & (slots.length - 1);
    }
    slots[slot] = i + 1;
  });
  return table;
}

export function wordCount(table: SharedWords): number {
  return table.starts.length - 1;
}

/** The word's index, or undefined when the table does not hold it. */
export function indexOfWord(table: SharedWords, word: string): number | undefined {
  const { slots } = table;
  const mask = slots.length - 1;
  for (let slot = hash(word) & mask; ; slot = (slot + 1) & mask) {
    const entry = slots[slot] as number;
    if (entry === 0) return undefined;
    if (sameWord(table, entry - 1, word)) return entry - 1;
  }
}

export function wordAt(table: SharedWords, index: number): string {
  return String.fromCharCode.apply(null, table.chars.subarray(table.starts[index], table.starts[index + 1]) as unknown as number[]);
}

function sameWord({ starts, chars }: SharedWords, index: number, word: string): boolean {
  const start = starts[index] as number;
  if ((starts[index + 1] as number) - start !== word.length) return false;
  for (let c = 0; c < word.length; c++) if (chars[start + c] !== word.charCodeAt(c)) return false;
  return true;
}

/** FNV-1a over the UTF-16 code units. */
function hash(word: string): number {
  let h = 0x811c9dc5;
  for (let c = 0; c < word.length; c++) h = Math.imul(h ^ word.charCodeAt(c), 0x01000193);
  return h >>> 0;
}
