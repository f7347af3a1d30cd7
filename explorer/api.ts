// The explorer's JSON API: request validation (every problem named, 400) and the operations, shared with the
// dead-letter CLI. Write operations answer 403 unless the explorer was started with --allow-writes.
import type { EventData } from "@azure/event-hubs";
import { z } from "zod";
import { purgeDeadLetters } from "./dead-letters/purge";
import { replayToHubs } from "./dead-letters/replay";
import { parseSelection, selectDeadLetters } from "./dead-letters/select";
import { ID_FORMAT, parseDeadLetterId } from "./dead-letters/store";
import type { Explorer, PeekPosition } from "./explorer";
import { plural } from "../common/plural";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Parsed JSON body of a POST. */
  body: unknown;
}

const HUB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;
const invalid = (problems: string[]) => new HttpError(400, `invalid request: ${problems.join("; ")}`, problems);
const issues = (error: z.ZodError, prefix = "") => error.issues.map((i) => `${prefix}${i.path.join(".") || "body"}: ${i.message}`);

export async function handleApi(explorer: Explorer, request: ApiRequest): Promise<unknown> {
  const { method, path } = request;
  if (method === "GET" && path === "/api/overview") return overview(explorer);
  const events = /^\/api\/hubs\/([^/]+)\/partitions\/([^/]+)\/events$/.exec(path);
  if (events && method === "GET") return peek(explorer, decodeURIComponent(events[1] ?? ""), decodeURIComponent(events[2] ?? ""), request.query);
  const quota = /^\/api\/hubs\/([^/]+)\/consumer-groups\/([^/]+)\/model-quota$/.exec(path);
  if (quota && method === "GET") return modelQuota(explorer, decodeURIComponent(quota[1] ?? ""), decodeURIComponent(quota[2] ?? ""));
  const send = /^\/api\/hubs\/([^/]+)\/events$/.exec(path);
  if (send && method === "POST") return sendTestEvent(explorer, decodeURIComponent(send[1] ?? ""), request.body);
  if (method === "GET" && path === "/api/dead-letters") return listDeadLetters(explorer, request.query);
  if (method === "GET" && path === "/api/dead-letters/entry") return showDeadLetter(explorer, request.query.get("id") ?? "");
  if (method === "POST" && path === "/api/dead-letters/replay") return replay(explorer, request.body);
  if (method === "POST" && path === "/api/dead-letters/purge") return purge(explorer, request.body);
  throw new HttpError(404, `no such API: ${method} ${path}`);
}

async function overview(explorer: Explorer) {
  const [hubs, workers] = await Promise.all([explorer.hubs(), explorer.workers()]);
  const withGroups = await Promise.all(hubs.map(async (hub) => ({ ...hub, consumerGroups: await explorer.consumerGroups(hub) })));
  const { config } = explorer;
  return {
    title: config.title,
    allowWrites: config.allowWrites,
    peekConsumerGroup: config.peekConsumerGroup,
    deadLetterContainer: explorer.deadLetterContainer.containerName,
    deadLetterScope: { eventHubName: config.connection.eventHub.eventHubName, consumerGroup: config.connection.eventHub.consumerGroup },
    hubs: withGroups,
    workers,
  };
}

function knownHub(explorer: Explorer, hub: string): void {
  if (!explorer.knowsHub(hub)) throw new HttpError(404, `hub ${JSON.stringify(hub)} is not one the explorer shows (${explorer.config.hubs.join(", ")})`);
}

/** Per model deployment: the quota, what the live replicas send and have accepted and throttled, each replica's share and circuit, and the last minutes. */
async function modelQuota(explorer: Explorer, hub: string, consumerGroup: string) {
  knownHub(explorer, hub);
  if (!explorer.knowsConsumerGroup(consumerGroup)) {
    throw new HttpError(404, `consumer group ${JSON.stringify(consumerGroup)} is not one the explorer shows (${explorer.config.consumerGroups.join(", ")})`);
  }
  const view = await explorer.modelQuota(hub, consumerGroup);
  return { eventHubName: hub, consumerGroup, checkpointContainer: explorer.checkpointContainer(consumerGroup).containerName, ...view };
}

/** from: earliest | latest | a sequence number | an ISO time; count 1-100. */
async function peek(explorer: Explorer, hub: string, partitionId: string, query: URLSearchParams) {
  knownHub(explorer, hub);
  const problems: string[] = [];
  if (!/^\d+$/.test(partitionId)) problems.push(`partition ${JSON.stringify(partitionId)}: allowed: a partition id such as 0`);
  const from = (query.get("from") ?? "earliest").trim();
  let position: PeekPosition | undefined;
  if (from === "earliest" || from === "latest") position = { kind: from };
  else if (/^\d+$/.test(from)) position = { kind: "sequence", sequenceNumber: Number(from) };
  else if (/^\d{4}-\d{2}-\d{2}/.test(from) && !Number.isNaN(Date.parse(from))) position = { kind: "time", enqueuedOn: new Date(from) };
  else problems.push(`from ${JSON.stringify(from)}: allowed: earliest | latest | a sequence number | an ISO time`);
  const countText = query.get("count") ?? "20";
  const count = Number(countText);
  if (!/^\d+$/.test(countText) || count < 1 || count > 100) problems.push(`count ${JSON.stringify(countText)}: allowed: an integer from 1 to 100`);
  if (problems.length > 0 || !position) throw invalid(problems);
  return { hub, partitionId, from, events: await explorer.peek(hub, partitionId, position, count) };
}

function requireWrites(explorer: Explorer, what: string): void {
  if (!explorer.config.allowWrites) throw new HttpError(403, `${what} is a write operation and writes are off: start the explorer with --allow-writes`);
}

const scopeSchema = z.object({
  hub: z.string().regex(HUB_NAME, "allowed: a hub name").optional(),
  consumerGroup: z.string().regex(/^(\$Default|[A-Za-z0-9][A-Za-z0-9._-]{0,49})$/, "allowed: a consumer group name").optional(),
});

function scopeOf(explorer: Explorer, raw: unknown) {
  const parsed = scopeSchema.safeParse(raw);
  if (!parsed.success) throw invalid(issues(parsed.error));
  const { eventHub } = explorer.config.connection;
  return { eventHubName: parsed.data.hub ?? eventHub.eventHubName, consumerGroup: parsed.data.consumerGroup ?? eventHub.consumerGroup };
}

async function listDeadLetters(explorer: Explorer, query: URLSearchParams) {
  const params = Object.fromEntries(query);
  const scope = scopeOf(explorer, { hub: params.hub, consumerGroup: params.consumerGroup });
  const { hub: _hub, consumerGroup: _cg, ...filter } = params;
  const selection = parseSelection({ ids: [], filter }, { defaultState: "all", requireSelection: false, nameOf: (name) => name });
  if ("problems" in selection) throw invalid(selection.problems);
  return { ...scope, entries: await explorer.deadLetters.list(scope, selection.filter) };
}

async function showDeadLetter(explorer: Explorer, rawId: string) {
  const id = parseDeadLetterId(rawId);
  if (!id) throw invalid([`id ${JSON.stringify(rawId)}: allowed: ${ID_FORMAT}`]);
  const entry = await explorer.deadLetters.get(id);
  if (!entry) throw new HttpError(404, `no dead letter ${rawId} in container "${explorer.deadLetterContainer.containerName}"`);
  return entry;
}

const selectionSchema = scopeSchema.extend({
  ids: z.array(z.string()).max(10_000).default([]),
  filter: z.record(z.string(), z.string()).default({}),
  all: z.boolean().optional(),
});

async function select(explorer: Explorer, body: unknown, defaultState: "all" | "replayed", what: string) {
  const parsed = selectionSchema.safeParse(body ?? {});
  if (!parsed.success) throw invalid(issues(parsed.error));
  const selection = parseSelection(
    { ids: parsed.data.ids, filter: parsed.data.filter, ...(parsed.data.all !== undefined ? { all: parsed.data.all } : {}) },
    { defaultState, requireSelection: true, what, nameOf: (name) => `filter.${name}` },
  );
  if ("problems" in selection) throw invalid(selection.problems);
  const found = await selectDeadLetters(explorer.deadLetters, scopeOf(explorer, body), selection);
  if (found.missing.length > 0) throw new HttpError(404, `${plural(found.missing.length, "dead letter")} not found: ${found.missing.join(", ")}`);
  return found.entries;
}

async function replay(explorer: Explorer, body: unknown) {
  requireWrites(explorer, "replay");
  const to = z.object({ to: z.string().regex(HUB_NAME, "allowed: a hub name").optional() }).safeParse(body ?? {});
  if (!to.success) throw invalid(issues(to.error));
  const entries = await select(explorer, body, "all", "replay");
  return { outcomes: await replayToHubs(explorer.deadLetterContainer, entries, to.data.to, (hub) => explorer.producer(hub)) };
}

async function purge(explorer: Explorer, body: unknown) {
  requireWrites(explorer, "purge");
  if ((body as { confirm?: unknown } | undefined)?.confirm !== true) throw invalid(["confirm: must be true: a purge deletes dead letters for good"]);
  const entries = await select(explorer, body, "replayed", "purge");
  return { outcomes: await purgeDeadLetters(explorer.deadLetterContainer, entries) };
}

const testEventSchema = z.object({
  body: z.string().max(256 * 1024, "allowed: at most 256 KiB"),
  contentType: z.string().min(1).max(200).optional(),
  partitionKey: z.string().min(1).max(128).optional(),
  partitionId: z.string().regex(/^\d+$/, "allowed: a partition id such as 0").optional(),
});

async function sendTestEvent(explorer: Explorer, hub: string, body: unknown) {
  requireWrites(explorer, "sending a test event");
  knownHub(explorer, hub);
  const parsed = testEventSchema.safeParse(body ?? {});
  if (!parsed.success) throw invalid(issues(parsed.error));
  const { partitionKey, partitionId, contentType } = parsed.data;
  if (partitionKey && partitionId) throw invalid(["partitionKey and partitionId: set at most one"]);
  const event: EventData = { body: Buffer.from(parsed.data.body, "utf8"), properties: { source: "explorer" }, ...(contentType ? { contentType } : {}) };
  await explorer.producer(hub).sendBatch([event], { ...(partitionKey ? { partitionKey } : {}), ...(partitionId ? { partitionId } : {}) });
  return { sent: 1, hub };
}
