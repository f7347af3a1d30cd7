// What the worker checks before it consumes: that its containers exist (or can be created) and that Event Hubs
// accepts its credentials and knows the hub. A problem that never fixes itself (a wrong key, a missing hub or
// container) stops start-up with the reason; one that may pass (an outage, a role assignment still applying) is
// waited out or reported, and the worker starts.
import type { ContainerClient } from "@azure/storage-blob";
import type { Logger } from "pino";
import { probeEventHub, type AccessProblem } from "./event-hubs-access";
import { withRetry, type RetryPolicy } from "./retry";
import { errorFields } from "./telemetry/logger";

/** A storage or configuration problem found before consuming; the CLI prints it and exits. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** A storage answer that retrying cannot change: a 4xx other than a timeout or throttling (a wrong key, no rights). */
function isRefusal(error: unknown): boolean {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === "number" && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * The storage client makes one try per call (storage-clients.ts), so storage that cannot be reached at start-up
 * is retried here, with the worker's backoff, for as long as it takes (an outage makes the worker wait; each
 * retry is logged with the reason). A refusal (a wrong key, no rights) stops start-up at once with the reason.
 */
export async function ensureContainer(container: ContainerClient, create: boolean, setting: string, retry: RetryPolicy, logger: Logger): Promise<void> {
  try {
    const exists = await withRetry(async () => (create ? (await container.createIfNotExists(), true) : container.exists()), retry, {
      attempts: Infinity,
      isRetryable: (error) => !isRefusal(error),
      onRetry: (error, attempt, delayMs) =>
        logger.warn({ container: container.containerName, attempt, delayMs, err: errorFields(error) }, `cannot reach container "${container.containerName}" yet; retrying`),
    });
    if (exists) return;
  } catch (error) {
    throw new StartupError(
      `cannot reach container "${container.containerName}" at ${container.url} (${setting}): ${errorFields(error).message}`,
    );
  }
  throw new StartupError(
    `container "${container.containerName}" does not exist at ${container.url} (${setting}); create it, or set CREATE_CONTAINERS=true`,
  );
}

/**
 * One management call to the hub before subscribing. A wrong SAS key or hub name never fixes itself: StartupError
 * with the reason. A new Entra ID role assignment can take minutes to apply, and an unreachable namespace may come
 * back: the problem is logged and returned, and the worker keeps trying, not ready (see readiness.ts).
 */
export async function checkEventHubAccess(
  client: Parameters<typeof probeEventHub>[0],
  options: { where: string; usesConnectionString: boolean; timeoutMs: number; logger: Logger },
): Promise<AccessProblem | undefined> {
  const { where, logger } = options;
  const access = await probeEventHub(client, options.timeoutMs);
  if (access?.kind === "hub-not-found" || (access?.kind === "unauthorized" && options.usesConnectionString)) {
    throw new StartupError(
      access.kind === "unauthorized"
        ? `Event Hubs refused the credentials of EVENTHUB_CONNECTION_STRING for ${where} (${access.detail}); check its SharedAccessKeyName, SharedAccessKey and Listen rights`
        : `${where} does not exist (EVENTHUB_NAME, or the connection string's EntityPath): ${access.detail}`,
    );
  }
  if (access) logger.error({ problem: access.kind, err: access.detail }, accessProblemMessage(access, where));
  return access;
}

function accessProblemMessage(access: AccessProblem, where: string): string {
  return access.kind === "unauthorized"
    ? `Event Hubs refused the worker's Entra ID token for ${where}: it needs the Azure Event Hubs Data Receiver role there. New role assignments can take minutes to apply, so the worker keeps trying and is not ready meanwhile`
    : `cannot reach ${where}; the worker keeps trying and is not ready until it receives`;
}
