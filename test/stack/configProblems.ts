import { expect } from "vitest";
import { StackConfigError, validateStackConfig, type ConfigProblem } from "../../infra/config";

/** The problems validateStackConfig reports for a config it must refuse; fails the test when it accepts it. */
export function problemsOf(raw: Record<string, unknown>): ConfigProblem[] {
  try {
    validateStackConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(StackConfigError);
    return [...(error as StackConfigError).problems];
  }
  throw new Error(`config was accepted: ${JSON.stringify(raw)}`);
}
