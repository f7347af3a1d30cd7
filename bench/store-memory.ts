// What the emulator process holds for the events it retains, against its memory ceiling: the emulator in a
// process of its own (in memory, no Azurite), the official SDK in this process sending N events of S bytes
// in full batches to each partition, then the emulator's resident memory and the event bytes it
// retains (from the partitions' sequence numbers). Linux only (/proc).
//
//   npx tsx bench/store-memory.ts [--events 1000000] [--event-bytes 1024] [--max-memory-mib 512]
import { EventHubProducerClient } from "@azure/event-hubs";
import { Command } from "commander";
import { z } from "zod";
import { optionsOrExit, wholeNumber } from "../common/cli";
import { sendBatches } from "../common/send-batches";
import { EmulatorProcess } from "./chaos/emulator-process";

const HUB = "events";
const PARTITIONS = 4;
const MIB = 1024 * 1024;

function readOptions(): { events: number; eventBytes: number; maxMemoryMib: number } {
  const command = new Command("store-memory")
    .description("What the emulator process holds for the events it retains, against its memory ceiling (Linux only).")
    .option("--events <n>", "events to send", "1000000")
    .option("--event-bytes <n>", "body size of each event", "1024")
    .option("--max-memory-mib <n>", "the emulator's memory ceiling", "512");
  const schema = z.object({ events: wholeNumber(1, 100_000_000), eventBytes: wholeNumber(1, 1_000_000), maxMemoryMib: wholeNumber(1, 1_048_576) });
  return optionsOrExit({ command, schema, title: "Invalid store-memory options" });
}

async function main(): Promise<void> {
  const { events, eventBytes, maxMemoryMib: ceilingMiB } = readOptions();
  const emulator = await EmulatorProcess.start({ hubs: [{ name: HUB, partitionCount: PARTITIONS }], maxMemoryBytes: ceilingMiB * MIB });
  const producer = new EventHubProducerClient(emulator.connectionString, HUB);
  try {
    const idle = emulator.rssBytes();
    const body = Buffer.alloc(eventBytes, 0x61);
    const shares = Array.from({ length: PARTITIONS }, (_, p) => Math.floor(events / PARTITIONS) + (p < events % PARTITIONS ? 1 : 0));
    const sent = (
      await Promise.all(shares.map((share, p) => sendBatches(producer, Array.from({ length: share }, () => ({ body })), { partitionId: String(p) })))
    ).reduce((total, partition) => total + partition.events, 0);
    let retainedEvents = 0;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const p = await producer.getPartitionProperties(String(partition));
      if (!p.isEmpty) retainedEvents += p.lastEnqueuedSequenceNumber - p.beginningSequenceNumber + 1;
    }
    const rss = emulator.rssBytes();
    const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;
    const retainedBytes = retainedEvents * eventBytes;
    process.stdout.write(
      [
        `sent ${sent} events of ${eventBytes} B; ceiling ${ceilingMiB} MiB`,
        `retained: ${retainedEvents} events, ${mib(retainedBytes)} of event bodies`,
        `emulator RSS: idle ${mib(idle)}, now ${mib(rss)}, peak ${mib(emulator.peakRssBytes())}`,
        `held per retained event beyond its body: ${((rss - idle - retainedBytes) / Math.max(retainedEvents, 1)).toFixed(0)} B`,
        "",
      ].join("\n"),
    );
  } finally {
    await producer.close();
    await emulator.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`store-memory failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
