// Names and naming rules every program shares: the Pulumi stack, the worker, the emulator, the tools, the
// benchmarks and the tests import them from here, so a rule cannot drift between them. No dependencies:
// the worker image and the Pulumi program both load this file.

/** The consumer group the stack creates for the workers and the worker uses unless told otherwise. */
export const WORKERS_CONSUMER_GROUP = "ai-workers";

/** The consumer group every event hub has; the one name outside the entity-name rule. */
export const DEFAULT_CONSUMER_GROUP = "$Default";

/** The container where the worker parks events it could not process. */
export const DEAD_LETTER_CONTAINER = "dead-letters";

/** The port of the worker's /metrics, /healthz, /readyz and /status. */
export const WORKER_METRICS_PORT = 9464;

/**
 * Event hub and consumer group names: 1-50 characters of letters, digits, '.', '-' or '_', starting and
 * ending with a letter or digit (Azure rejects a trailing '.', '-' or '_').
 */
export const ENTITY_NAME_RULE = "1-50 characters of letters, digits, '.', '-' or '_', starting and ending with a letter or digit";
export const ENTITY_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,48}[A-Za-z0-9])?$/;

export function isEntityName(name: string): boolean {
  return ENTITY_NAME.test(name);
}

/** A consumer group name: $Default (any case, as the service compares names) or an entity name. */
export function isConsumerGroupName(name: string): boolean {
  return name.toLowerCase() === DEFAULT_CONSUMER_GROUP.toLowerCase() || isEntityName(name);
}

/** Blob container names: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit. */
export const CONTAINER_NAME_RULE =
  "3-63 characters: lowercase letters, digits and single hyphens, starting and ending with a letter or digit";
export const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * `checkpoints-<consumer group>`: the container for one consumer group's checkpoints and ownership.
 * Lower-cased, characters outside [a-z0-9-] replaced by `-`, runs of `-` collapsed and trailing ones dropped
 * (container names allow single hyphens only), at most 63 characters.
 */
export function checkpointContainerName(consumerGroup: string): string {
  return `checkpoints-${consumerGroup.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`
    .replace(/-{2,}/g, "-")
    .replace(/-+$/, "")
    .slice(0, 63)
    .replace(/-+$/, "");
}
