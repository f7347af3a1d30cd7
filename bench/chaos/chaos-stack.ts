// The chaos run's local stack: our Event Hubs emulator in a process of its own with a data directory, and
// Azurite on disk, each of which can be taken down and started again on the same port and data directory
// while the workers keep running: the emulator by kill -9 (acknowledged events must survive it), Azurite
// by a stop (a storage outage; checkpoints, ownership and dead letters must survive it).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { checkpointContainerName, DEAD_LETTER_CONTAINER } from "../../common/names";
import { startAzurite, type RunningAzurite } from "../../emulator/index";
import { CHAOS_RESULTS_CONTAINER } from "./blob-results";
import { EmulatorProcess } from "./emulator-process";

export const CHAOS_HUB = "events";
export const CHAOS_CONSUMER_GROUP = "ai-workers";

export class ChaosStack {
  private constructor(
    readonly emulator: EmulatorProcess,
    private azurite: RunningAzurite,
    private readonly dataDir: string,
    readonly partitionCount: number,
  ) {}

  static async start(partitionCount: number): Promise<ChaosStack> {
    const dataDir = mkdtempSync(join(tmpdir(), "chaos-"));
    const config = {
      hubs: [{ name: CHAOS_HUB, partitionCount, consumerGroups: [CHAOS_CONSUMER_GROUP] }],
      dataDir: join(dataDir, "eventhubs"),
    };
    let emulator: EmulatorProcess | undefined;
    try {
      emulator = await EmulatorProcess.start(config);
      const azurite = await startAzurite({ dataDir: join(dataDir, "azurite"), containers: ChaosStack.containers() });
      return new ChaosStack(emulator, azurite, dataDir, partitionCount);
    } catch (error) {
      await emulator?.stop();
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  private static containers(): string[] {
    return [checkpointContainerName(CHAOS_CONSUMER_GROUP), DEAD_LETTER_CONTAINER, CHAOS_RESULTS_CONTAINER];
  }

  get eventHubConnectionString(): string {
    return this.emulator.connectionString;
  }

  get storageConnectionString(): string {
    return this.azurite.connectionString;
  }

  /** The variables a worker reads. */
  env(): Record<string, string> {
    return {
      EVENTHUB_CONNECTION_STRING: this.eventHubConnectionString,
      EVENTHUB_NAME: CHAOS_HUB,
      EVENTHUB_CONSUMER_GROUP: CHAOS_CONSUMER_GROUP,
      STORAGE_CONNECTION_STRING: this.storageConnectionString,
      CHECKPOINT_CONTAINER: checkpointContainerName(CHAOS_CONSUMER_GROUP),
      DEAD_LETTER_CONTAINER,
    };
  }

  /** Stops Azurite, keeps it down for `downMs`, starts it again on the same port and data directory. */
  async restartAzurite(downMs: number): Promise<void> {
    const port = this.azurite.port;
    await this.azurite.stop();
    await sleep(downMs);
    this.azurite = await startAzurite({ port, dataDir: join(this.dataDir, "azurite"), containers: ChaosStack.containers() });
  }

  /** kill -9 of the emulator, down for `downMs`, started again on the same port and data directory. */
  restartEmulator(downMs: number): Promise<void> {
    return this.emulator.crashAndRestart(downMs);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.emulator.stop(), this.azurite.stop()]);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
