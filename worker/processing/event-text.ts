import { PoisonEventError } from "../failures";
import { plural } from "../../common/plural";

/**
 * The text a language processor works on: a string body, or the first string `text`, `message` or `body`
 * field of a JSON object body. Anything else is a poison event, with a message that says what is expected.
 */
export function eventText(body: unknown, processorName: string): string {
  if (typeof body === "string") return body;
  if (typeof body === "object" && body !== null && !Array.isArray(body) && !(body instanceof Uint8Array)) {
    for (const field of ["text", "message", "body"] as const) {
      const value = (body as Record<string, unknown>)[field];
      if (typeof value === "string") return value;
    }
  }
  throw new PoisonEventError(
    `${processorName} expects a text body: a string, or a JSON object with a string "text", "message" or "body" field; got ${describe(body)}`,
  );
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `binary data (${plural(value.byteLength, "byte")})`;
  if (Array.isArray(value)) return "a JSON array";
  if (value === null || value === undefined) return "an empty body";
  if (typeof value === "object") return `a JSON object with fields [${Object.keys(value).slice(0, 10).join(", ")}]`;
  return `a ${typeof value}`;
}
