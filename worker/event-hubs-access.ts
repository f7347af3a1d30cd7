// What the worker learns from one management call before it subscribes: whether Event Hubs accepts its
// credentials and knows the hub. The SDK's subscription loop would otherwise retry a wrong key for minutes
// without a word, and report it only inside an AggregateError with an empty message.
import { errorFields } from "./telemetry/logger";

export interface AccessProblem {
  kind: "unauthorized" | "hub-not-found" | "unreachable";
  /** Name and message of the underlying error, never empty and without secrets. */
  detail: string;
}

/** The SDK's MessagingError codes, also inside the AggregateError its retries end with. */
function hasCode(error: unknown, code: string): boolean {
  if (error instanceof AggregateError) return error.errors.some((inner: unknown) => hasCode(inner, code));
  const fields = error as { code?: unknown; name?: unknown; condition?: unknown } | undefined;
  return fields?.code === code || fields?.name === code;
}

export async function probeEventHub(
  client: { getEventHubProperties(options?: { abortSignal?: AbortSignal }): Promise<unknown> },
  timeoutMs: number,
): Promise<AccessProblem | undefined> {
  try {
    await client.getEventHubProperties({ abortSignal: AbortSignal.timeout(timeoutMs) });
    return undefined;
  } catch (error) {
    const fields = errorFields(error);
    const detail = `${fields.code ?? fields.name}: ${fields.message}`;
    if (hasCode(error, "UnauthorizedError")) return { kind: "unauthorized", detail };
    if (hasCode(error, "MessagingEntityNotFoundError")) return { kind: "hub-not-found", detail };
    return { kind: "unreachable", detail };
  }
}
