// What the sample producer sends through, whichever protocol: send.ts implements it with the Event Hubs SDK,
// send-kafka.ts with kafkajs.
import type { EventData } from "@azure/event-hubs";

/** Where a group of events goes: one partition, one partition key, or anywhere. */
export interface Destination {
  partitionId?: string;
  partitionKey?: string;
}

/** Where sample events are sent: the Event Hubs SDK over AMQP, or a Kafka producer. */
export interface SendTarget {
  partitionIds(): Promise<string[]>;
  /** Sends the events, in order, to one destination; resolves with the number of batches once stored. */
  send(events: EventData[], destination: Destination, signal?: AbortSignal): Promise<number>;
  close(): Promise<void>;
}
