import type { TokenCredential } from "@azure/core-auth";
import type { ContainerClient } from "@azure/storage-blob";
import { BlobSink } from "./blob-sink";
import { EventHubSink } from "./eventhub-sink";
import type { Sink } from "./sink";
import { StdoutSink } from "./stdout-sink";

export type SinkOptions =
  | { kind: "stdout" } // one JSON line per record on stdout
  | { kind: "eventhub"; connectionString?: string; fullyQualifiedNamespace?: string; eventHubName: string; credential?: TokenCredential }
  | { kind: "blob"; containerClient: ContainerClient; prefix: string }; // JSONL per partition

export async function createSink(options: SinkOptions): Promise<Sink> {
  switch (options.kind) {
    case "stdout":
      return new StdoutSink();
    case "eventhub": {
      const { kind: _kind, ...hubOptions } = options;
      return EventHubSink.create(hubOptions);
    }
    case "blob":
      await options.containerClient.createIfNotExists();
      return new BlobSink(options.containerClient, options.prefix);
  }
}
