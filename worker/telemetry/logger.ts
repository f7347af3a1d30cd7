// Structured JSON logs on stderr: stdout carries data (the stdout sink's result lines).
import pino, { type Logger } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  // Synchronous writes: the process may exit right after a fatal line, and log volume is low.
  return pino({ level, base: { pid: process.pid, ...bindings } }, pino.destination({ fd: 2, sync: true }));
}

/** Error fields worth logging, without dumping SDK objects whole. */
export function errorFields(error: unknown): { name: string; message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === "string" ? { code } : {}) };
  }
  return { name: "NonError", message: String(error) };
}
