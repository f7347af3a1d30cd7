// Counts in messages: "1 event", "2 events", so no message says "1 events were" or hedges with "event(s)".

/** The count and its noun, singular for exactly 1; give the plural when it is not the noun plus "s". */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
