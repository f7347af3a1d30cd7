/*
 * Pulumi hands every config value over as text (lists and objects as JSON); tests may pass native values.
 * These turn such text back into what it says, and leave anything else for the schema to judge.
 */

export const wholeNumberFromText = (value: unknown) =>
  typeof value === "string" && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;

export const booleanFromText = (value: unknown) =>
  typeof value === "string" && /^(true|false)$/i.test(value.trim()) ? value.trim().toLowerCase() === "true" : value;

export const jsonFromText = (value: unknown) => {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
};
