// PROCESSOR=azure-openai|openai with MODEL_TASK=embeddings: a batch's events go to the embeddings endpoint as
// few requests as the input limit and token budget allow, so a backlog costs a fraction of a request per event.
import { eventText } from "../event-text";
import type { EventInput, EventSettlement, Processor } from "../processor";
import type { ModelRouter } from "./model-router";
import { fitToBudget, type InputBudget } from "./tokens";

export interface EmbeddingsTaskOptions {
  /** Inputs per request (the API takes up to 2,048). */
  maxInputsPerRequest: number;
  /** Tokens per request, summed over its inputs. */
  maxTokensPerRequest: number;
  dimensions?: number;
  budget: InputBudget;
}

export interface EmbeddingResult {
  /** The deployment that answered (its name in MODEL_DEPLOYMENTS). */
  deployment: string;
  model: string;
  embedding: number[];
  /** This input's tokens (estimated: the API reports usage per request, not per input). */
  tokens: number;
  truncated?: true;
}

interface Prepared {
  index: number;
  partitionId: string;
  retry: boolean;
  text: string;
  tokens: number;
  truncated: boolean;
}

export class EmbeddingsProcessor implements Processor {
  constructor(
    readonly name: string,
    private readonly router: ModelRouter,
    private readonly task: EmbeddingsTaskOptions,
  ) {}

  async process(input: EventInput, signal?: AbortSignal): Promise<EmbeddingResult> {
    const [settlement] = await this.processMany([input], signal);
    if (!settlement?.ok) throw settlement?.error ?? new Error("no outcome for the event");
    return JSON.parse(settlement.json) as EmbeddingResult;
  }

  /** Events that cannot be embedded settle as failures on their own; the rest go out in packed requests. */
  async processMany(inputs: EventInput[], signal?: AbortSignal): Promise<EventSettlement[]> {
    const settlements: EventSettlement[] = new Array(inputs.length);
    const prepared: Prepared[] = [];
    inputs.forEach((input, index) => {
      try {
        const fitted = fitToBudget(eventText(input.body, this.name), this.task.budget);
        prepared.push({ index, partitionId: input.partitionId, retry: (input.attempt ?? 1) > 1, text: fitted.text, tokens: fitted.tokens, truncated: fitted.truncated });
      } catch (error) {
        settlements[index] = { ok: false, error };
      }
    });
    await Promise.all(
      this.pack(prepared).map(async (group) => {
        const started = performance.now();
        try {
          const results = await this.embed(group, signal);
          const ms = (performance.now() - started) / group.length;
          group.forEach((item, i) => {
            settlements[item.index] = { ok: true, json: JSON.stringify(results[i]), ms };
          });
        } catch (error) {
          for (const item of group) settlements[item.index] = { ok: false, error };
        }
      }),
    );
    return settlements;
  }

  unavailable(): string | undefined {
    return this.router.unavailable();
  }

  degraded(): string[] {
    return this.router.degraded();
  }

  async close(): Promise<void> {
    this.router.close();
  }

  /** Consecutive groups within the input and token limits of one request. */
  private pack(items: Prepared[]): Prepared[][] {
    const groups: Prepared[][] = [];
    let current: Prepared[] = [];
    let tokens = 0;
    for (const item of items) {
      if (current.length > 0 && (current.length >= this.task.maxInputsPerRequest || tokens + item.tokens > this.task.maxTokensPerRequest)) {
        groups.push(current);
        current = [];
        tokens = 0;
      }
      current.push(item);
      tokens += item.tokens;
    }
    if (current.length > 0) groups.push(current);
    return groups;
  }

  private async embed(group: Prepared[], signal: AbortSignal | undefined): Promise<EmbeddingResult[]> {
    const tokens = group.reduce((sum, item) => sum + item.tokens, 0);
    const partitionId = group[0]?.partitionId ?? "";
    const { data: response, endpoint } = await this.router.call(partitionId, tokens, signal, "embeddings", (deployment) =>
      deployment.client.embeddings
        .create({
          model: deployment.model,
          input: group.map((item) => item.text),
          encoding_format: "float",
          ...(this.task.dimensions !== undefined ? { dimensions: this.task.dimensions } : {}),
        })
        .withResponse(),
      group.some((item) => item.retry),
    );
    endpoint.recordTokens(partitionId, response.usage?.prompt_tokens ?? tokens, 0);
    const byIndex = new Map(response.data.map((d) => [d.index, d.embedding]));
    return group.map((item, i) => {
      const embedding = byIndex.get(i);
      if (!embedding) throw new Error(`the embeddings response has no vector for input ${i} of ${group.length}`);
      const result: EmbeddingResult = { deployment: endpoint.name, model: response.model, embedding, tokens: item.tokens };
      if (item.truncated) result.truncated = true;
      return result;
    });
  }
}
