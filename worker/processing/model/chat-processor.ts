// PROCESSOR=azure-openai|openai with MODEL_TASK=chat or structured: each event's text is the user message
// under the system prompt. Structured output asks for the user's JSON Schema and returns the parsed object
// only when it validates; an invalid answer is an ordinary failure (retried, then dead-lettered with why).
import { Ajv, type ValidateFunction } from "ajv";
import { eventText } from "../event-text";
import type { EventInput, Processor } from "../processor";
import type { ModelRouter } from "./model-router";
import { fitToBudget, tokenCount, type InputBudget } from "./tokens";

export interface ChatTaskOptions {
  systemPrompt: string;
  /** Structured output: the schema every answer must satisfy. */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  maxOutputTokens?: number;
  budget: InputBudget;
}

export interface ChatResult {
  /** The deployment that answered (its name in MODEL_DEPLOYMENTS). */
  deployment: string;
  model: string;
  /** The answer's text (chat), or undefined with structured output. */
  content?: string | null;
  /** The parsed, validated answer (structured output). */
  output?: unknown;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number } | null;
  finishReason: string | null;
  /** Set when the input was cut to MODEL_MAX_INPUT_TOKENS. */
  truncated?: true;
}

/** The model's answer did not satisfy the schema; retried like any failure, then dead-lettered with this message. */
export class InvalidModelOutputError extends Error {
  override readonly name = "InvalidModelOutputError";
}

/** What the quota is charged for an answer of unknown length when no max is set (Azure counts max_tokens). */
const ASSUMED_COMPLETION_TOKENS = 256;

export class ChatProcessor implements Processor {
  private readonly validate: ValidateFunction | undefined;
  private readonly systemPromptTokens: number;

  constructor(
    readonly name: string,
    private readonly router: ModelRouter,
    private readonly task: ChatTaskOptions,
  ) {
    this.validate = task.jsonSchema ? new Ajv({ allErrors: true, strict: false }).compile(task.jsonSchema.schema) : undefined;
    this.systemPromptTokens = tokenCount(task.systemPrompt);
  }

  async process(input: EventInput, signal?: AbortSignal): Promise<ChatResult> {
    const fitted = fitToBudget(eventText(input.body, this.name), this.task.budget);
    const { jsonSchema, maxOutputTokens, systemPrompt } = this.task;
    const estimatedTokens = this.systemPromptTokens + fitted.tokens + (maxOutputTokens ?? ASSUMED_COMPLETION_TOKENS);
    const { data: completion, endpoint } = await this.router.call(input.partitionId, estimatedTokens, signal, "chat", (deployment) =>
      deployment.client.chat.completions
        .create({
          model: deployment.model,
          messages: [
            { role: "system", content: systemPrompt },
            { role: "user", content: fitted.text },
          ],
          ...(maxOutputTokens !== undefined ? { max_completion_tokens: maxOutputTokens } : {}),
          ...(jsonSchema ? { response_format: { type: "json_schema", json_schema: { name: jsonSchema.name, schema: jsonSchema.schema, strict: true } } } : {}),
        })
        .withResponse(),
      (input.attempt ?? 1) > 1,
    );
    const choice = completion.choices[0];
    const usage = completion.usage;
    const result: ChatResult = {
      deployment: endpoint.name,
      model: completion.model,
      usage: usage ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens } : null,
      finishReason: choice?.finish_reason ?? null,
    };
    if (usage) endpoint.recordTokens(input.partitionId, usage.prompt_tokens, usage.completion_tokens);
    const content = choice?.message.content ?? null;
    if (this.validate) result.output = this.parseStructured(content);
    else result.content = content;
    if (fitted.truncated) result.truncated = true;
    return result;
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

  private parseStructured(content: string | null): unknown {
    let output: unknown;
    try {
      output = JSON.parse(content ?? "");
    } catch {
      throw new InvalidModelOutputError(`the model's answer is not JSON: ${JSON.stringify((content ?? "").slice(0, 200))}`);
    }
    const validate = this.validate as ValidateFunction;
    if (!validate(output)) {
      const problems = (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`).join("; ");
      throw new InvalidModelOutputError(`the model's answer does not match MODEL_JSON_SCHEMA: ${problems}`);
    }
    return output;
  }
}
