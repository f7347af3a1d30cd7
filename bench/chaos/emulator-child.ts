// The Event Hubs emulator alone in a process of its own (no Azurite), so that a fault can kill it with
// SIGKILL and start it again on the same port and data directory. Started by EmulatorProcess.
//   env EMULATOR_CHILD_CONFIG  the emulator config as JSON (e.g. with a dataDir)
//   env EMULATOR_CHILD_PORT    the port (0 = pick one)
// Prints {"ready":true,"port":N,"connectionString":"..."} once listening. SIGUSR1 force-detaches every
// consumer link and SIGUSR2 drops every connection, each answered with {"fault":...,"affected":N}.
// SIGTERM stops it cleanly.
import pino from "pino";
import { EventHubsEmulator, parseEmulatorConfig } from "../../emulator/index";

async function main(): Promise<void> {
  const config = parseEmulatorConfig(JSON.parse(process.env.EMULATOR_CHILD_CONFIG ?? "{}"), "EMULATOR_CHILD_CONFIG");
  const emulator = await EventHubsEmulator.start({
    config,
    port: Number(process.env.EMULATOR_CHILD_PORT ?? 0),
    log: pino({ name: "emulator-child", level: "warn" }, pino.destination(2)),
  });
  const say = (value: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(value)}\n`);
  process.on("SIGUSR1", () => say({ fault: "detach", affected: emulator.faults.detachReceivers() }));
  process.on("SIGUSR2", () => say({ fault: "drop", affected: emulator.faults.dropConnections() }));
  process.once("SIGTERM", () => void emulator.stop().then(() => process.exit(0)));
  say({ ready: true, port: emulator.port, connectionString: emulator.connectionString() });
}

main().catch((error: unknown) => {
  process.stderr.write(`emulator child failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
