// Token counts for budgets and pacing. o200k_base is the encoding of current OpenAI models (gpt-4o and later);
// for other models (older OpenAI, local Llama/Qwen) the count is an estimate, which is all pacing needs.
import { countTokens, decode, encode } from "gpt-tokenizer/encoding/o200k_base";
import { PoisonEventError } from "../../failures";

export type InputOverflow = "truncate" | "dead-letter";

export interface InputBudget {
  maxInputTokens: number;
  overflow: InputOverflow;
}

/** The text cut to the budget, or a PoisonEventError when the setting says over-long input is dead-lettered. */
export function fitToBudget(text: string, budget: InputBudget): { text: string; tokens: number; truncated: boolean } {
  // Counting is linear; only texts that may be over budget (about 4 characters a token) need the full encode.
  if (text.length <= budget.maxInputTokens) return { text, tokens: countTokens(text), truncated: false };
  const tokens = encode(text);
  if (tokens.length <= budget.maxInputTokens) return { text, tokens: tokens.length, truncated: false };
  if (budget.overflow === "dead-letter") {
    throw new PoisonEventError(
      `input has ${tokens.length} tokens, over MODEL_MAX_INPUT_TOKENS=${budget.maxInputTokens} (MODEL_INPUT_OVERFLOW=dead-letter; set truncate to cut it instead)`,
    );
  }
  return { text: decode(tokens.slice(0, budget.maxInputTokens)), tokens: budget.maxInputTokens, truncated: true };
}

export function tokenCount(text: string): number {
  return countTokens(text);
}
