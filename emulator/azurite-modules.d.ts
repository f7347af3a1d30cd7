// Azurite ships no type declarations. These describe the parts of its in-process blob server we use,
// as read from the installed azurite 3.37.0 (the constructor arguments are positional and change between
// versions, which is why package.json pins azurite exactly).
declare module "azurite/dist/src/blob/BlobConfiguration" {
  export default class BlobConfiguration {
    constructor(
      host?: string,
      port?: number,
      keepAliveTimeout?: number,
      metadataDBPath?: string,
      extentDBPath?: string,
      persistencePathArray?: { locationId: string; locationPath: string; maxConcurrency: number }[],
      enableAccessLog?: boolean,
      accessLogWriteStream?: NodeJS.WritableStream,
      enableDebugLog?: boolean,
      debugLogFilePath?: string,
      loose?: boolean,
      skipApiVersionCheck?: boolean,
      cert?: string,
      key?: string,
      pwd?: string,
      oauth?: string,
      disableProductStyleUrl?: boolean,
      isMemoryPersistence?: boolean,
      memoryStore?: unknown,
    );
  }
}

declare module "azurite/dist/src/blob/BlobServer" {
  import type { Server } from "node:http";
  import type BlobConfiguration from "azurite/dist/src/blob/BlobConfiguration";
  export default class BlobServer {
    constructor(configuration: BlobConfiguration);
    readonly httpServer: Server;
    start(): Promise<void>;
    close(): Promise<void>;
    clean(): Promise<void>;
  }
}

declare module "azurite/dist/src/common/persistence/MemoryExtentStore" {
  export class MemoryExtentChunkStore {
    constructor(sizeLimit: number);
  }
  export const DEFAULT_EXTENT_MEMORY_LIMIT: number;
}
