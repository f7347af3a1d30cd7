import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { azuriteConnectionString, startAzurite, type RunningAzurite } from "../../emulator/azurite";
import type { DeadLetterRecord } from "../../common/dead-letter-record";
import { BlobDeadLetterStore, deadLetterBody, serializeDeadLetter } from "../../worker/dead-letter";
import { blobSink } from "../../worker/sinks/blob-sink";
import { pluginRuntime } from "../support/plugin-runtime";
import { PartialWriteError, type ResultRecord } from "../../worker/sinks/sink";
import { createBlobService } from "../../worker/storage-clients";

function deadLetter(overrides: Partial<DeadLetterRecord> = {}): DeadLetterRecord {
  return {
    eventHubName: "events", consumerGroup: "ai-workers", partitionId: "3", sequenceNumber: 41, offset: "4100",
    enqueuedTimeUtc: "2024-03-12T09:15:00.000Z", messageId: "m-41", contentType: "application/octet-stream",
    properties: { source: "sensor-7", raw: Buffer.from([1, 2]) },
    body: deadLetterBody(new Uint8Array([0xff, 0xfe, 0x00, 0x10]), "application/octet-stream"),
    error: { name: "PoisonEventError", message: "text-insights expects a text body", attempts: 1 },
    deadLetteredAt: "2024-03-12T09:15:01.000Z",
    ...overrides,
  };
}

function result(partitionId: string, sequenceNumber: number, enqueuedTimeUtc: string): ResultRecord {
  return {
    partitionId, sequenceNumber, offset: String(sequenceNumber * 10), enqueuedTimeUtc, messageId: `m-${sequenceNumber}`,
    processor: "text-insights", processedAt: new Date().toISOString(), resultJson: JSON.stringify({ n: sequenceNumber }),
  };
}

async function sequenceNumbersIn(container: ContainerClient, name: string): Promise<number[]> {
  return (await readText(container, name)).trimEnd().split("\n").map((line) => (JSON.parse(line) as ResultRecord).sequenceNumber);
}

async function readText(container: ContainerClient, name: string): Promise<string> {
  return (await container.getBlobClient(name).downloadToBuffer()).toString("utf8");
}

describe("storage on real Azurite", () => {
  let azurite: RunningAzurite;
  let service: BlobServiceClient;
  beforeAll(async () => {
    azurite = await startAzurite();
    service = BlobServiceClient.fromConnectionString(azurite.connectionString, { retryOptions: { maxTries: 2, retryDelayInMs: 100 } });
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  it("stores a dead letter at <hub>/<cg>/<partition>/<sequence>.json with body, properties and error; a second put overwrites", async () => {
    const container = service.getContainerClient("dead-letters");
    await container.createIfNotExists();
    const store = new BlobDeadLetterStore(container, { eventHubName: "events", consumerGroup: "ai-workers" });
    await store.put(deadLetter());
    await store.put(deadLetter({ error: { name: "Error", message: "timeout", attempts: 5 } }));

    const names: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: "events/ai-workers/" })) names.push(blob.name);
    expect(names).toEqual(["events/ai-workers/3/41.json"]);
    const stored = JSON.parse(await readText(container, names[0]!)) as DeadLetterRecord;
    expect(stored).toMatchObject({
      partitionId: "3", sequenceNumber: 41, offset: "4100", messageId: "m-41", contentType: "application/octet-stream",
      body: { encoding: "base64", data: Buffer.from([0xff, 0xfe, 0x00, 0x10]).toString("base64") },
      properties: { source: "sensor-7", raw: { base64: "AQI=" } },
      error: { name: "Error", message: "timeout", attempts: 5 },
    });
  });

  it("keeps JSON and text bodies readable in dead letters", () => {
    expect(deadLetterBody(Buffer.from('{"text":1}'), undefined)).toEqual({ encoding: "json", data: { text: 1 } });
    expect(deadLetterBody(Buffer.from("{not json"), "application/json")).toEqual({ encoding: "utf8", data: "{not json" });
    expect(deadLetterBody(Buffer.from("héllo"), "text/plain")).toEqual({ encoding: "utf8", data: "héllo" });
    expect(deadLetterBody({ already: "parsed" }, undefined)).toEqual({ encoding: "json", data: { already: "parsed" } });
  });

  it("writes a dead letter whose body or properties nest too deep to serialise: raw text kept, the rest left out with the reason", async () => {
    const nested = "[".repeat(5000) + "]".repeat(5000);
    const container = service.getContainerClient("dead-letters");
    await container.createIfNotExists();
    const store = new BlobDeadLetterStore(container, { eventHubName: "deep", consumerGroup: "ai-workers" });
    // Bytes: kept as their exact text, never parsed into something JSON.stringify cannot write back.
    await store.put(deadLetter({ eventHubName: "deep", sequenceNumber: 1, contentType: "application/json", body: deadLetterBody(Buffer.from(nested), "application/json") }));
    const bytes = JSON.parse(await readText(container, "deep/ai-workers/3/1.json")) as DeadLetterRecord;
    expect(bytes.body).toEqual({ encoding: "utf8", data: nested });
    expect(bytes.unserialisable).toBeUndefined();

    // Values that were never bytes (an AMQP value body, nested properties): left out, with the reason.
    const deepValue = JSON.parse(nested) as unknown;
    await store.put(deadLetter({ eventHubName: "deep", sequenceNumber: 2, properties: { p: deepValue }, body: deadLetterBody(deepValue, undefined) }));
    const values = JSON.parse(await readText(container, "deep/ai-workers/3/2.json")) as DeadLetterRecord;
    expect(values).toMatchObject({ sequenceNumber: 2, body: { encoding: "omitted", data: null }, properties: {}, error: { name: "PoisonEventError" } });
    expect(values.unserialisable).toMatch(/^could not write the record as JSON \(RangeError: Maximum call stack size exceeded\); left out: body and properties$/);
    expect(() => serializeDeadLetter(deadLetter({ properties: { p: deepValue } }))).not.toThrow();
  });

  it("blob sink and dead-letter store create again a blob or container deleted while they run", async () => {
    const container = service.getContainerClient("results-lost");
    const sink = await blobSink.create({ container: container.containerName, prefix: "" }, pluginRuntime({ blobService: service }));
    await sink.write([result("0", 1, "2024-03-12T09:00:00.000Z")]);
    await container.getBlobClient("0/2024-03-12-09.jsonl").delete();
    await sink.write([result("0", 2, "2024-03-12T09:01:00.000Z")]);
    expect(await sequenceNumbersIn(container, "0/2024-03-12-09.jsonl")).toEqual([2]);

    await container.delete();
    await sink.write([result("0", 3, "2024-03-12T09:02:00.000Z")]);
    expect(await sequenceNumbersIn(container, "0/2024-03-12-09.jsonl")).toEqual([3]);

    const letters = service.getContainerClient("dead-letters-lost");
    await letters.create();
    const store = new BlobDeadLetterStore(letters, { eventHubName: "events", consumerGroup: "ai-workers" });
    await letters.delete();
    await store.put(deadLetter());
    expect(JSON.parse(await readText(letters, "events/ai-workers/3/41.json"))).toMatchObject({ sequenceNumber: 41 });
  });

  it("a blob sink write that fails after its first blob names the records already appended, so a retry appends only the rest", async () => {
    const container = service.getContainerClient("results-partial");
    await container.createIfNotExists();
    // The second hour's name is taken by a block blob: appending to it fails (409 InvalidBlobType).
    await container.getBlockBlobClient("0/2024-03-12-10.jsonl").upload("not an append blob\n", 19);
    const sink = await blobSink.create({ container: container.containerName, prefix: "" }, pluginRuntime({ blobService: service }));
    const records = [
      result("0", 1, "2024-03-12T09:58:00.000Z"),
      result("0", 2, "2024-03-12T09:59:00.000Z"),
      result("0", 3, "2024-03-12T10:00:00.000Z"),
    ];
    const failure = await sink.write(records).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PartialWriteError);
    expect((failure as PartialWriteError).durable.map((r) => r.sequenceNumber)).toEqual([1, 2]);
    expect(((failure as PartialWriteError).cause as { statusCode?: number }).statusCode).toBe(409);

    await container.getBlobClient("0/2024-03-12-10.jsonl").delete();
    const durable = new Set((failure as PartialWriteError).durable);
    await sink.write(records.filter((record) => !durable.has(record)));
    expect(await sequenceNumbersIn(container, "0/2024-03-12-09.jsonl")).toEqual([1, 2]); // once, not twice
    expect(await sequenceNumbersIn(container, "0/2024-03-12-10.jsonl")).toEqual([3]);
  });

  it("blob sink appends JSON Lines per partition and enqueued hour, in order, across writes", async () => {
    const container = service.getContainerClient("results");
    const sink = await blobSink.create({ container: container.containerName, prefix: "runs/a/" }, pluginRuntime({ blobService: service }));
    await sink.write([
      result("0", 1, "2024-03-12T09:59:00.000Z"),
      result("0", 2, "2024-03-12T10:00:01.000Z"),
      result("0", 3, "2024-03-12T10:05:00.000Z"),
    ]);
    await sink.write([result("1", 7, "2024-03-12T10:06:00.000Z"), result("0", 4, "2024-03-12T10:06:00.000Z")]);
    await sink.close();

    const names: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: "runs/a/" })) {
      expect(blob.properties.blobType).toBe("AppendBlob");
      names.push(blob.name);
    }
    expect(names.sort()).toEqual(["runs/a/0/2024-03-12-09.jsonl", "runs/a/0/2024-03-12-10.jsonl", "runs/a/1/2024-03-12-10.jsonl"]);
    const lines = (await readText(container, "runs/a/0/2024-03-12-10.jsonl")).trimEnd().split("\n").map((l) => JSON.parse(l) as ResultRecord);
    expect(lines.map((r) => r.sequenceNumber)).toEqual([2, 3, 4]);
    expect(lines[0]).toMatchObject({ partitionId: "0", offset: "20", messageId: "m-2", result: { n: 2 } });
  });

  it("the worker's storage client makes one try per operation and sends the server-side timeout: retries belong to the worker", async () => {
    // A storage endpoint that answers every request with 503, which the SDK's default policy retries 3 times.
    const requests: string[] = [];
    const server = createServer((request, response) => {
      requests.push(request.url ?? "");
      response.writeHead(503, { "x-ms-error-code": "ServerBusy" }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const blobService = createBlobService({ connectionString: azuriteConnectionString(`http://127.0.0.1:${port}/devstoreaccount1`) }, () => {
        throw new Error("a connection string needs no credential");
      });
      const failure = await blobService.getContainerClient("dead-letters").exists().catch((error: unknown) => error);
      expect((failure as { statusCode?: number }).statusCode).toBe(503);
      expect(requests).toHaveLength(1);
      expect(new URL(requests[0]!, "http://storage").searchParams.get("timeout")).toBe("30");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("a storage request to a server that never answers is abandoned after the client-side timeout, so it cannot hold a partition", async () => {
    // Accepts connections and reads requests, never answers: a socket a NAT dropped without a word.
    const sockets: Socket[] = [];
    let received = 0;
    const server = createTcpServer((socket) => {
      sockets.push(socket);
      socket.once("data", () => received++);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const connectionString = azuriteConnectionString(`http://127.0.0.1:${port}/devstoreaccount1`);
      const blobService = createBlobService({ connectionString }, () => {
        throw new Error("a connection string needs no credential");
      }, 500);
      // Bounded here too, so a regression fails the test instead of hanging it.
      const outcome = await Promise.race([
        blobService.getContainerClient("results").getAppendBlobClient("a.jsonl").appendBlock("x\n", 2).then(() => "answered", (error: unknown) => error),
        new Promise((resolve) => setTimeout(resolve, 20_000, "still waiting after 20 s")),
      ]);
      expect(outcome).toMatchObject({ name: "AbortError" });
      expect(received).toBe(1); // one try: the worker's retry layer decides what happens next
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
