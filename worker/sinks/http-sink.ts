// SINK=http: each batch of results POSTed as JSON Lines to a URL (an Azure Function, a Logic App, an API of
// your own). A write is durable once the endpoint answers 2xx; anything else fails the write, and the worker
// retries it and holds the partition's checkpoint meanwhile (a sink failure never dead-letters an event).
import { defineSink } from "../plugins";
import { integer, parsed, text } from "../settings/values";
import { runsByPartition, serializeResultRecord, writeInParts, type ResultRecord, type Sink } from "./sink";

export interface HttpSinkOptions {
  url: string;
  /** The Authorization header's value (e.g. "Bearer <token>"), if the endpoint needs one. */
  authorization?: string;
  /** Longest wait for one request's answer (ms). */
  timeoutMs: number;
}

/** How much of a refusing answer's body the error carries. */
const ERROR_BODY_CHARS = 200;

export class HttpSink implements Sink {
  constructor(private readonly options: HttpSinkOptions) {}

  /**
   * One request per partition in a write, in order. Idempotency-Key names the partition and sequence range, so
   * an endpoint can recognise a batch sent again after a lost answer (delivery is at least once).
   */
  async write(records: ResultRecord[]): Promise<void> {
    await writeInParts(async (durable) => {
      for (const batch of runsByPartition(records)) {
        await this.post(batch);
        durable(batch);
      }
    });
  }

  private async post(batch: ResultRecord[]): Promise<void> {
    const first = batch[0]!;
    const last = batch.at(-1)!;
    const response = await fetch(this.options.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-ndjson",
        "idempotency-key": `${first.partitionId}-${first.sequenceNumber}-${last.sequenceNumber}`,
        ...(this.options.authorization ? { authorization: this.options.authorization } : {}),
      },
      body: batch.map((record) => serializeResultRecord(record) + "\n").join(""),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (!response.ok) {
      const body = (await response.text().catch(() => "")).slice(0, ERROR_BODY_CHARS);
      throw new Error(`HTTP sink: ${this.options.url} answered ${response.status} ${response.statusText}${body ? `: ${body}` : ""}`);
    }
    await response.body?.cancel(); // the answer's body is not needed; release the connection
  }

  async close(): Promise<void> {
    // fetch keeps no connection the sink owns.
  }
}

const GROUP = "Result sink (SINK=http):";

/** Kept exactly as given (a trailing slash can matter to an endpoint). */
const endpointUrl = parsed("an http(s) URL such as https://example.com/results", (raw) =>
  URL.canParse(raw) && /^https?:$/.test(new URL(raw).protocol) ? raw : undefined,
);

export const httpSink = defineSink({
  name: "http",
  settings: {
    SINK_HTTP_URL: { group: GROUP, value: endpointUrl,
      help: "where each batch of results is POSTed as JSON Lines (required for SINK=http)" },
    SINK_HTTP_AUTHORIZATION: { group: GROUP, value: text, secret: true,
      help: "the Authorization header sent with each request, e.g. Bearer <token>" },
    SINK_HTTP_TIMEOUT_MS: { group: GROUP, value: integer(100, 600_000), default: "30000",
      help: "longest wait for an answer (ms); a timeout fails the write, which is retried" },
  },
  required: ["SINK_HTTP_URL"],
  options: (values): HttpSinkOptions => ({
    url: values.SINK_HTTP_URL ?? "",
    timeoutMs: values.SINK_HTTP_TIMEOUT_MS,
    ...(values.SINK_HTTP_AUTHORIZATION ? { authorization: values.SINK_HTTP_AUTHORIZATION } : {}),
  }),
  create: async (options) => new HttpSink(options),
});
