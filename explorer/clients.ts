// Azure SDK clients for one connection: a connection string, or Entra ID (DefaultAzureCredential) with a
// namespace or account URL, exactly as the worker connects. Callers close what they open.
import { EventHubConsumerClient, EventHubProducerClient } from "@azure/event-hubs";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import type { Connection } from "./settings";

let sharedCredential: TokenCredential | undefined;
const credential = () => (sharedCredential ??= new DefaultAzureCredential());

const retryOptions = (connection: Connection) => ({ retryOptions: connection.eventHub.retry });

export function producerFor(connection: Connection, eventHubName: string): EventHubProducerClient {
  const { connectionString, fullyQualifiedNamespace } = connection.eventHub;
  return connectionString
    ? new EventHubProducerClient(connectionString, eventHubName, retryOptions(connection))
    : new EventHubProducerClient(fullyQualifiedNamespace ?? "", eventHubName, credential(), retryOptions(connection));
}

export function consumerFor(connection: Connection, eventHubName: string, consumerGroup: string): EventHubConsumerClient {
  const { connectionString, fullyQualifiedNamespace } = connection.eventHub;
  return connectionString
    ? new EventHubConsumerClient(consumerGroup, connectionString, eventHubName, retryOptions(connection))
    : new EventHubConsumerClient(consumerGroup, fullyQualifiedNamespace ?? "", eventHubName, credential(), retryOptions(connection));
}

export function blobServiceFor(connection: Connection): BlobServiceClient {
  const { connectionString, accountUrl } = connection.storage;
  return connectionString ? BlobServiceClient.fromConnectionString(connectionString) : new BlobServiceClient(accountUrl ?? "", credential());
}

export function deadLetterContainerFor(connection: Connection): ContainerClient {
  return blobServiceFor(connection).getContainerClient(connection.storage.deadLetterContainer);
}
