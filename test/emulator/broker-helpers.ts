// Shared setup for the broker tests: an emulator on a free port and a bounded way to read events with
// the real EventHubConsumerClient.
import {
  EventHubConsumerClient,
  EventHubProducerClient,
  type EventPosition,
  type LastEnqueuedEventProperties,
  type ReceivedEventData,
} from "@azure/event-hubs";
import pino from "pino";
import { parseEmulatorConfig, type EmulatorConfigInput } from "../../emulator/config";
import { EventHubsEmulator } from "../../emulator/server";

export const HUB = "events";
export const retryOptions = { maxRetries: 1, retryDelayInMs: 100, timeoutInMs: 5000 };

export function startEmulator(config: EmulatorConfigInput = {}): Promise<EventHubsEmulator> {
  return EventHubsEmulator.start({
    config: parseEmulatorConfig({ hubs: [{ name: HUB, partitionCount: 4, consumerGroups: ["ai-workers"] }], ...config }, "test"),
    log: pino({ level: "silent" }),
  });
}

export function producerFor(emulator: EventHubsEmulator, hub = HUB): EventHubProducerClient {
  return new EventHubProducerClient(emulator.connectionString(), hub, { retryOptions });
}

export function consumerFor(emulator: EventHubsEmulator, consumerGroup = "$Default", hub = HUB): EventHubConsumerClient {
  return new EventHubConsumerClient(consumerGroup, emulator.connectionString(), hub, { retryOptions });
}

export interface ReadOptions {
  startPosition: EventPosition;
  /** Stop once this many events arrived. */
  count: number;
  /** Stop after this long regardless (bounded tests); default 5 s. */
  timeoutMs?: number;
  /** Stop at the first error reported to processError. */
  stopOnError?: boolean;
  ownerLevel?: number;
  trackLastEnqueuedEventProperties?: boolean;
}

export interface ReadResult {
  events: ReceivedEventData[];
  errors: Error[];
  lastEnqueued: LastEnqueuedEventProperties | undefined;
}

/** A running subscription to one partition that collects what arrives. */
export interface Reader {
  readonly result: ReadResult;
  /** Resolves when `count` events arrived, an error arrived (with stopOnError), or the timeout passed. */
  readonly done: Promise<ReadResult>;
  close(): Promise<void>;
}

export function startReading(client: EventHubConsumerClient, partitionId: string, options: ReadOptions): Reader {
  const result: ReadResult = { events: [], errors: [], lastEnqueued: undefined };
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(() => finish(), options.timeoutMs ?? 5000);
  const subscription = client.subscribe(
    partitionId,
    {
      processEvents: async (events, context) => {
        result.events.push(...events);
        if (options.trackLastEnqueuedEventProperties) result.lastEnqueued = { ...context.lastEnqueuedEventProperties };
        if (result.events.length >= options.count) finish();
      },
      processError: async (err) => {
        result.errors.push(err);
        if (options.stopOnError) finish();
      },
    },
    {
      startPosition: options.startPosition,
      maxBatchSize: 50,
      maxWaitTimeInSeconds: 0.2,
      ...(options.ownerLevel === undefined ? {} : { ownerLevel: options.ownerLevel }),
      trackLastEnqueuedEventProperties: options.trackLastEnqueuedEventProperties ?? false,
    },
  );
  const close = async () => {
    clearTimeout(timer);
    finish();
    await subscription.close();
  };
  const done = finished.then(() => result);
  return { result, done, close };
}

/** Reads from one partition until `count` events arrived (or the timeout), then closes the subscription. */
export async function readEvents(client: EventHubConsumerClient, partitionId: string, options: ReadOptions): Promise<ReadResult> {
  const reader = startReading(client, partitionId, options);
  const result = await reader.done;
  await reader.close();
  return result;
}

/** The error code of an SDK error; for an AggregateError of retries, the first attempt's code. */
export function errorCode(err: unknown): string | undefined {
  if (err instanceof AggregateError) return errorCode(err.errors[0]);
  return (err as { code?: string } | undefined)?.code;
}
