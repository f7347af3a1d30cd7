// SIGTERM/SIGINT: one graceful stop with an overall timeout, then exit. A second signal exits at once.
import type { Logger } from "pino";

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
/**
 * One Ctrl-C or `kill` of a process group reaches this process more than once within milliseconds (directly,
 * and relayed by npm/tsx). Repeats this soon are the same request, not a second one.
 */
const REPEAT_WINDOW_MS = 1000;
type HandledSignal = keyof typeof SIGNAL_EXIT_CODES;

export interface ShutdownOptions {
  stop: () => Promise<void>;
  timeoutMs: number;
  logger: Logger;
  exit?: (code: number) => void;
  /** Clock for telling a repeated delivery from a second signal; injectable for tests. */
  now?: () => number;
}

/** Waits until stdout has taken everything written so far (result lines must not be cut off at exit). */
function flushStdout(): Promise<void> {
  return new Promise((resolve) => process.stdout.write("", () => resolve()));
}

/**
 * Runs `stop` once with a deadline. Resolves with the exit code: 0 after a clean stop, 1 if the deadline
 * passed first (the remaining work is abandoned; undrained events are replayed from the last checkpoint).
 */
export async function gracefulStop(stop: () => Promise<void>, timeoutMs: number, logger: Logger): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const outcome = await Promise.race([stop().then(() => "stopped" as const), deadline]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    logger.error({ timeoutMs }, "shutdown did not finish in time (SHUTDOWN_TIMEOUT_MS); exiting anyway");
    return 1;
  }
  logger.info("shutdown complete");
  return 0;
}

/** Returns a function that removes the handlers again. */
export function installShutdownHandlers(options: ShutdownOptions): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const now = options.now ?? Date.now;
  let firstSignalAt: number | undefined;
  const onSignal = (signal: HandledSignal) => {
    if (firstSignalAt !== undefined && now() - firstSignalAt < REPEAT_WINDOW_MS) {
      options.logger.debug({ signal }, "repeated delivery of the same signal ignored");
      return;
    }
    if (firstSignalAt !== undefined) {
      options.logger.warn({ signal }, "second signal: exiting at once");
      exit(SIGNAL_EXIT_CODES[signal]);
      return;
    }
    firstSignalAt = now();
    options.logger.info({ signal, timeoutMs: options.timeoutMs }, "shutting down: draining in-flight work, then checkpointing");
    void gracefulStop(options.stop, options.timeoutMs, options.logger)
      .then(async (code) => {
        await flushStdout();
        exit(code);
      });
  };
  const signals = Object.keys(SIGNAL_EXIT_CODES) as HandledSignal[];
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
