// What a worker has started and must close, as a stack: start-up pushes a closer for each thing it starts, and a
// failed start-up and stop() alike unwind it, the last started first. Each step is timed and logged; none throws.
import type { Logger } from "pino";
import { errorFields } from "./telemetry/logger";

export class Closers {
  private readonly stack: Array<{ name: string; close: () => Promise<void> }> = [];

  constructor(private readonly logger: Logger) {}

  /** `name` says what closing does, as the shutdown log shows it ("close sink"). */
  push(name: string, close: () => Promise<void>): void {
    this.stack.push({ name, close });
  }

  /** Closes everything pushed, the last first, and empties the stack. */
  async closeAll(): Promise<void> {
    for (let closer = this.stack.pop(); closer; closer = this.stack.pop()) await this.step(closer.name, closer.close);
  }

  /** Runs one shutdown step, logging how long it took or why it failed. */
  async step(name: string, action: () => Promise<void>): Promise<void> {
    const started = Date.now();
    try {
      await action();
      this.logger.info({ step: name, ms: Date.now() - started }, `shutdown: ${name} done`);
    } catch (error) {
      this.logger.error({ step: name, err: errorFields(error) }, `shutdown: ${name} failed`);
    }
  }
}
