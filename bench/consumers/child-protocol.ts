// How the benchmark's consumer children are configured and how they report back: settings arrive as
// BENCH_* environment variables (validated here, once), and the child's one result is a JSON log line
// `{"benchSummary": {...}}` on stderr (stdout carries result lines, as the worker's does).
import { earliestEventPosition, type SubscribeOptions } from "@azure/event-hubs";
import { z } from "zod";
import { idleShare, readMachineCpu, type CpuCost, type MachineCpu } from "../cpu-usage";
import type { LatencySummary } from "../stats";

/** What a child measured; its CpuCost is its own CPU time (all its threads) and the machine's idle share over the measured window. */
export interface ChildSummary extends CpuCost {
  /** Events fully handled within the measured window. */
  events: number;
  /** From the first event received (or submitted) to the last one done. */
  seconds: number;
  /** Checkpoints written (0 where the configuration does not checkpoint). */
  checkpoints: number;
  /** False when the time limit ended the run before every expected event was done. */
  completed: boolean;
  /** Enqueued time to handled, for events enqueued after BENCH_MEASURE_FROM_MS (when set). */
  latencyMs?: LatencySummary;
}

const wholeNumber = (min: number) => z.coerce.number().int().min(min);

export const hubSettings = {
  BENCH_CONNECTION_STRING: z.string().min(1),
  BENCH_EVENTHUB_NAME: z.string().min(1),
  BENCH_CONSUMER_GROUP: z.string().min(1),
  BENCH_EXPECTED_EVENTS: wholeNumber(1),
  BENCH_TIME_LIMIT_MS: wholeNumber(100),
  BENCH_MAX_BATCH_SIZE: wholeNumber(1),
  BENCH_MAX_WAIT_MS: wholeNumber(10),
  BENCH_PREFETCH_COUNT: wholeNumber(1),
};

type HubSettings = z.output<z.ZodObject<typeof hubSettings>>;

/** What every receiving configuration subscribes with: the whole backlog, in batches the parent chose. */
export function backlogSubscribeOptions(settings: HubSettings): SubscribeOptions {
  return {
    startPosition: earliestEventPosition,
    maxBatchSize: settings.BENCH_MAX_BATCH_SIZE,
    maxWaitTimeInSeconds: settings.BENCH_MAX_WAIT_MS / 1000,
    prefetchCount: settings.BENCH_PREFETCH_COUNT,
  };
}

/** Subscription errors go to stderr as a warning log line; the run window decides whether the run failed. */
export async function logSubscriptionError(error: Error): Promise<void> {
  process.stderr.write(`${JSON.stringify({ level: 40, msg: "subscription error", error: error.message })}\n`);
}

/** Parses the child's settings or exits with code 2 naming each bad variable. */
export function readChildSettings<T extends z.ZodRawShape>(shape: T): z.output<z.ZodObject<T>> {
  const parsed = z.object(shape).safeParse(process.env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  - ${String(issue.path[0])}: ${issue.message}`);
  process.stderr.write(`Invalid benchmark child settings:\n${problems.join("\n")}\n`);
  process.exit(2);
}

/** The child is subscribed to every partition (logged once, so a live producer can start). */
export function reportReady(): void {
  process.stderr.write(`${JSON.stringify({ benchReady: true })}\n`);
}

export function reportSummary(summary: ChildSummary): void {
  process.stderr.write(`${JSON.stringify({ benchSummary: summary })}\n`);
}

/** Measures this process's CPU cost of a window: call `start()` as it opens, `cost()` as it closes. */
export class CpuMeter {
  private startedAt: { process: NodeJS.CpuUsage; machine: MachineCpu | undefined } | undefined;

  start(): void {
    this.startedAt ??= { process: process.cpuUsage(), machine: readMachineCpu() };
  }

  cost(): CpuCost {
    if (!this.startedAt) return { cpuSeconds: 0, machineIdleShare: Number.NaN };
    const { user, system } = process.cpuUsage(this.startedAt.process);
    const machine = readMachineCpu();
    const { machine: startMachine } = this.startedAt;
    return { cpuSeconds: (user + system) / 1e6, machineIdleShare: machine && startMachine ? idleShare(startMachine, machine) : Number.NaN };
  }
}

export function isChildSummary(value: unknown): value is ChildSummary {
  return typeof value === "object" && value !== null && typeof (value as ChildSummary).events === "number" && typeof (value as ChildSummary).seconds === "number";
}

/**
 * Counts events done and stops the run at `expected` events or at the time limit, whichever comes first.
 * The window starts at the first event, so client start-up is not measured.
 */
export class RunWindow {
  private firstAt: number | undefined;
  private lastAt: number | undefined;
  private done = 0;
  private readonly finished: Promise<ChildSummary>;
  private finish: (completed: boolean) => void = () => undefined;
  private readonly cpu = new CpuMeter();
  checkpoints = 0;

  constructor(
    private readonly expected: number,
    timeLimitMs: number,
  ) {
    this.finished = new Promise((resolve) => {
      const timer = setTimeout(() => this.finish(false), timeLimitMs);
      this.finish = (completed) => {
        clearTimeout(timer);
        const seconds = this.firstAt === undefined || this.lastAt === undefined ? 0 : (this.lastAt - this.firstAt) / 1000;
        resolve({ events: this.done, seconds, checkpoints: this.checkpoints, completed, ...this.cpu.cost() });
      };
    });
  }

  /** Call when events arrive, before handling them. */
  started(): void {
    this.firstAt ??= performance.now();
    this.cpu.start();
  }

  /** Call when `count` more events are done. */
  completed(count: number): void {
    this.done += count;
    this.lastAt = performance.now();
    if (this.done >= this.expected) this.finish(true);
  }

  get isFinished(): boolean {
    return this.done >= this.expected;
  }

  result(): Promise<ChildSummary> {
    return this.finished;
  }
}
