// What the emulator process holds for the events it retains, against its memory ceiling: the emulator in a
// process of its own (in memory, no Azurite), the official SDK in this process sending N events of S bytes
// in full batches round the partitions, then the emulator's resident memory and the event bytes it
// retains (from the partitions' sequence numbers). Linux only (/proc).
//
//   npx tsx bench/store-memory.ts [--events 1000000] [--event-bytes 1024] [--max-memory-mib 512]
import { parseArgs } from "node:util";
import { EventHubProducerClient } from "@azure/event-hubs";
import { EmulatorProcess } from "./chaos/emulator-process";

const HUB = "events";
const PARTITIONS = 4;
const MIB = 1024 * 1024;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { events: { type: "string", default: "1000000" }, "event-bytes": { type: "string", default: "1024" }, "max-memory-mib": { type: "string", default: "512" } },
  });
  const events = Number(values.events);
  const eventBytes = Number(values["event-bytes"]);
  const ceilingMiB = Number(values["max-memory-mib"]);
  if (![events, eventBytes, ceilingMiB].every((n) => Number.isInteger(n) && n > 0)) throw new Error("--events, --event-bytes and --max-memory-mib take whole numbers > 0");

  const emulator = await EmulatorProcess.start({ hubs: [{ name: HUB, partitionCount: PARTITIONS }], maxMemoryBytes: ceilingMiB * MIB });
  const producer = new EventHubProducerClient(emulator.connectionString, HUB);
  try {
    const idle = emulator.rssBytes();
    const body = Buffer.alloc(eventBytes, 0x61);
    let sent = 0;
    for (let partition = 0; sent < events; partition = (partition + 1) % PARTITIONS) {
      const batch = await producer.createBatch({ partitionId: String(partition) });
      while (sent < events && batch.tryAdd({ body })) sent++;
      await producer.sendBatch(batch);
    }
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
