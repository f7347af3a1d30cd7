// Structured JSON logs on stderr: stdout carries data (the stdout sink's result lines).
import pino, { type Logger } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  // Synchronous writes: the process may exit right after a fatal line, and log volume is low.
  return pino({ level, base: { pid: process.pid, ...bindings } }, pino.destination({ fd: 2, sync: true }));
}

/**
 * Error fields worth logging, without dumping SDK objects whole. Never empty: the Azure SDK gives up with an
 * AggregateError whose own message is "" and whose real causes (e.g. 4 x UnauthorizedError) are inside it,
 * so those are unwrapped. Secrets that an error might quote (SAS keys, account keys, signatures) are masked.
 */
export function errorFields(error: unknown): { name: string; message: string; code?: string } {
  if (error instanceof AggregateError && error.errors.length > 0) {
    const inner = error.errors.map((e: unknown) => errorFields(e));
    const messages = [...new Set(inner.map((e) => e.message))];
    const first = inner[0] as { name: string; message: string; code?: string };
    const own = error.message ? `${redactSecrets(error.message)}: ` : "";
    return { ...first, message: `${own}${messages.join("; ")} (${error.errors.length} attempt${error.errors.length === 1 ? "" : "s"})` };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = error.cause === undefined || error.cause === error ? undefined : errorFields(error.cause);
    let message = redactSecrets(error.message);
    if (cause) message = message ? `${message} (cause: ${cause.name}: ${cause.message})` : `${cause.name}: ${cause.message}`;
    if (!message) message = typeof code === "string" ? code : `${error.name} without a message`;
    return { name: error.name, message, ...(typeof code === "string" ? { code } : {}) };
  }
  const shaped = error as { name?: unknown; message?: unknown } | null | undefined;
  if (typeof shaped?.message === "string" && shaped.message) {
    return { name: typeof shaped.name === "string" ? shaped.name : "NonError", message: redactSecrets(shaped.message) };
  }
  let text: string;
  try {
    text = typeof error === "object" && error !== null ? (JSON.stringify(error) ?? String(error)) : String(error);
  } catch {
    text = String(error);
  }
  return { name: "NonError", message: redactSecrets(text.slice(0, 500)) || "(empty error value)" };
}

const SECRET_VALUE = /((?:SharedAccessKey|AccountKey|SharedAccessSignature|sig)\s*=\s*)[^;&\s"']+/gi;

function redactSecrets(text: string): string {
  return text.replace(SECRET_VALUE, "$1***");
}
