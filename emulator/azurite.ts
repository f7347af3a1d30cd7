// Microsoft's Azurite blob server, run in-process: it starts in well under a second (no second Node
// runtime to boot), reports its real port straight from the listening socket (port 0 works without
// parsing output), and stops with the stack. In memory by default, on disk under `<dataDir>/blob`.
// skipApiVersionCheck is on because @azure/storage-blob 12.34 sends x-ms-version 2026-10-06, newer than
// Azurite 3.37 accepts (spec §9.4). Azurite logs nothing unless its debug log is enabled, which it is not.
import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";

export const DEVSTORE_ACCOUNT_NAME = "devstoreaccount1";
// Azurite's well-known development account key (public, documented by Microsoft).
export const DEVSTORE_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuriteOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Keep blobs on disk under `<dataDir>/blob`; in memory when absent. */
  dataDir?: string;
  /** Containers to create (if missing) before returning. */
  containers?: string[];
}

export interface RunningAzurite {
  host: string;
  port: number;
  /** e.g. http://127.0.0.1:10000/devstoreaccount1 */
  blobEndpoint: string;
  connectionString: string;
  stop(): Promise<void>;
}

export function azuriteConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${DEVSTORE_ACCOUNT_NAME};AccountKey=${DEVSTORE_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};`;
}

function configurationArguments(host: string, port: number, dataDir: string | undefined, memoryStore: unknown) {
  const blobDir = dataDir && path.join(dataDir, "blob");
  return {
    host,
    port,
    keepAliveTimeout: 5,
    metadataDBPath: blobDir ? path.join(blobDir, "__azurite_db_blob__.json") : "__azurite_db_blob__.json",
    extentDBPath: blobDir ? path.join(blobDir, "__azurite_db_blob_extent__.json") : "__azurite_db_blob_extent__.json",
    persistencePathArray: [{ locationId: "Default", locationPath: blobDir ? path.join(blobDir, "__blobstorage__") : "__blobstorage__", maxConcurrency: 10 }],
    memory: blobDir === undefined,
    memoryStore,
  };
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  // Loaded on demand: Azurite (express, loki, winston) is only needed when blobs are.
  const [{ default: BlobServer }, { default: BlobConfiguration }, memory] = await Promise.all([
    import("azurite/dist/src/blob/BlobServer"),
    import("azurite/dist/src/blob/BlobConfiguration"),
    import("azurite/dist/src/common/persistence/MemoryExtentStore"),
  ]);
  const host = options.host ?? "127.0.0.1";
  // A chunk store of our own: Azurite's default one is shared by every in-memory server in the process.
  const chunks = options.dataDir ? undefined : new memory.MemoryExtentChunkStore(memory.DEFAULT_EXTENT_MEMORY_LIMIT);
  const a = configurationArguments(host, options.port ?? 0, options.dataDir, chunks);
  const configuration = new BlobConfiguration(
    a.host, a.port, a.keepAliveTimeout, a.metadataDBPath, a.extentDBPath, a.persistencePathArray,
    false, // access log
    undefined,
    false, // debug log
    undefined,
    false, // loose
    true, // skipApiVersionCheck
    "", "", "", undefined,
    false, // disableProductStyleUrl
    a.memory,
    a.memoryStore,
  );
  if (options.dataDir) mkdirSync(path.join(options.dataDir, "blob"), { recursive: true });
  const server = new BlobServer(configuration);
  await server.start();
  const port = (server.httpServer.address() as AddressInfo).port;
  // A wildcard listener is reached over loopback.
  const endpointHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const blobEndpoint = `http://${endpointHost}:${port}/${DEVSTORE_ACCOUNT_NAME}`;
  const connectionString = azuriteConnectionString(blobEndpoint);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.httpServer.once("close", () => resolve()));
      await server.close();
      await closed; // the port is free again when this resolves
      if (a.memory) await server.clean();
    })());

  try {
    const service = BlobServiceClient.fromConnectionString(connectionString);
    for (const container of options.containers ?? []) await service.getContainerClient(container).createIfNotExists();
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, port, blobEndpoint, connectionString, stop };
}
