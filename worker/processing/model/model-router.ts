// Routes each model request to one of the deployments, from one first-come-first-served queue per process.
// - The lowest priority number is filled first: the queue's head goes to a deployment of that priority as soon
//   as its gates open (circuit, pause, concurrency, pace).
// - Spillover: a request that has waited SPILLOVER_AFTER_MS for a priority may go to the next one (twice that for
//   the one after, and so on), so provisioned capacity is used first and pay-as-you-go only takes the excess.
// - A deployment whose circuit is open gets nothing until its probe succeeds; the priorities behind it are not
//   held back by it (they are eligible at once), so its load moves at once.
// - Within one priority, deployments that could all take the request share by weight (smooth weighted round
//   robin); when some are full the others take what they admit, which shares by learned capacity.
// - A retry (a request sent before, refused or failed) goes ahead of first tries, behind earlier retries: it
//   holds its partition's commit back, and a hand-over or a drain waits for it.
// A request still in the queue when its signal aborts was never sent: it settles with the signal's reason.
import { performance } from "node:perf_hooks";
import { waitInQueue } from "../abortable-queue";
import type { ModelEndpoint } from "./model-endpoint";
import type { Permit } from "./rate-governor";

/** How long a request waits for a priority's deployments before the next priority may take it. */
export const SPILLOVER_AFTER_MS = 500;

interface Waiter {
  cost: number;
  enqueuedAt: number;
  retry: boolean;
  grant: (placed: { endpoint: ModelEndpoint; permit: Permit }) => void;
}

export interface RouterOptions {
  spilloverAfterMs?: number;
  now?: () => number;
}

export class ModelRouter {
  private readonly queue: Waiter[] = [];
  /** Distinct priorities, lowest first, each with its deployments. */
  private readonly levels: Array<{ priority: number; endpoints: ModelEndpoint[] }>;
  /** Smooth weighted round robin credit per deployment. */
  private readonly credit = new Map<ModelEndpoint, number>();
  /** When each deployment last was a place the queue's head could have gone but its gates were shut. */
  private readonly wantedAt = new Map<ModelEndpoint, number>();
  /** (time, tokens) of the requests the work asked for over the last second, wherever they went. */
  private readonly arrived: Array<[number, number]> = [];
  private readonly spilloverAfterMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Milliseconds requests spent waiting in the queue, summed (for the quota-wait metric). */
  waitedMs = 0;

  constructor(
    readonly endpoints: readonly ModelEndpoint[],
    options: RouterOptions = {},
  ) {
    if (endpoints.length === 0) throw new Error("a model router needs at least one deployment");
    this.spilloverAfterMs = options.spilloverAfterMs ?? SPILLOVER_AFTER_MS;
    this.now = options.now ?? (() => performance.now());
    const priorities = [...new Set(endpoints.map((e) => e.priority))].sort((a, b) => a - b);
    this.levels = priorities.map((priority) => ({ priority, endpoints: endpoints.filter((e) => e.priority === priority) }));
    for (const endpoint of endpoints) {
      this.credit.set(endpoint, 0);
      endpoint.governor.attach(() => this.queue.length > 0, () => this.pump());
    }
  }

  /** Requests waiting for a deployment. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Sends one request to the deployment the routing rules pick, once its gates open; resolves with the SDK's
   * data and the deployment that answered. An abort while queued rejects with the signal's reason (nothing sent).
   */
  async call<T>(
    partitionId: string,
    estimatedTokens: number,
    signal: AbortSignal | undefined,
    operation: "chat" | "embeddings",
    send: (endpoint: ModelEndpoint) => Promise<{ data: T; response: Response }>,
    retry = false,
  ): Promise<{ data: T; endpoint: ModelEndpoint }> {
    const enqueuedAt = this.now();
    this.arrived.push([enqueuedAt, estimatedTokens]);
    while ((this.arrived[0]?.[0] ?? enqueuedAt) < enqueuedAt - 1000) this.arrived.shift();
    const placed = waitInQueue<{ endpoint: ModelEndpoint; permit: Permit }, Waiter>(
      this.queue,
      (grant) => ({ cost: estimatedTokens, enqueuedAt, retry, grant }),
      signal,
      (queue, waiter) => {
        const firstTry = waiter.retry ? queue.findIndex((w) => !w.retry) : -1;
        if (firstTry === -1) queue.push(waiter);
        else queue.splice(firstTry, 0, waiter);
      },
    );
    this.pump();
    const { endpoint, permit } = await placed;
    const data = await endpoint.send(permit, partitionId, operation, () => send(endpoint));
    return { data, endpoint };
  }

  /**
   * Whether work waits that this deployment may take: the queue's head may go there now (its priority's turn has
   * come), or its gates were shut for the head within the last `withinMs`. The fleet's demand signal: a replica
   * whose work waits for a deployment would use more of it.
   */
  wanted(endpoint: ModelEndpoint, withinMs: number): boolean {
    const head = this.queue[0];
    if (!head) return false;
    const now = this.now();
    const at = this.wantedAt.get(endpoint);
    if (at !== undefined && now - at <= withinMs) return true;
    const index = this.levels.findIndex((level) => level.endpoints.includes(endpoint));
    return now - head.enqueuedAt >= this.eligibleAfterMs(index);
  }

  /** What the work asked of the model over the last second, per second: requests and their tokens. */
  arrivals(): { requestsPerSecond: number; tokensPerSecond: number } {
    const since = this.now() - 1000;
    let requests = 0;
    let tokens = 0;
    for (const [at, cost] of this.arrived) {
      if (at < since) continue;
      requests++;
      tokens += cost;
    }
    return { requestsPerSecond: requests, tokensPerSecond: tokens };
  }

  /** Why no request can be sent: every deployment's circuit is open. */
  unavailable(): string | undefined {
    if (this.endpoints.some((e) => e.isAvailable)) return undefined;
    return `no model deployment available, events wait: ${this.endpoints.map(describeCircuit).join("; ")}`;
  }

  /** Deployments whose circuit is open while others carry the load. */
  degraded(): string[] {
    if (this.unavailable() !== undefined) return [];
    return this.endpoints.filter((e) => !e.isAvailable).map((e) => `${describeCircuit(e)}; the other deployments carry the load`);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Grants the queue's head while some deployment takes it; otherwise sleeps until the earliest gate opens. */
  private pump(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const head = this.queue[0] as Waiter;
      const now = this.now();
      const choice = this.place(head, now);
      if ("endpoint" in choice) {
        this.queue.shift();
        this.waitedMs += now - head.enqueuedAt;
        head.grant({ endpoint: choice.endpoint, permit: choice.endpoint.admit(head.cost) });
        continue;
      }
      // A full deployment wakes the pump when a request finishes (governor.onFreed); time gates need a timer.
      if (Number.isFinite(choice.wakeAt)) {
        this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(choice.wakeAt - now)));
      }
      return;
    }
  }

  /**
   * How long a request waits before the priority at `index` may take it: priorities before the first one with an
   * available deployment hold nothing back; each one after it adds a spillover wait.
   */
  private eligibleAfterMs(index: number): number {
    const base = Math.max(0, this.levels.findIndex((level) => level.endpoints.some((e) => e.isAvailable)));
    return Math.max(0, index - base) * this.spilloverAfterMs;
  }

  /** The deployment that takes the request now, or when to look again. */
  private place(head: Waiter, now: number): { endpoint: ModelEndpoint } | { wakeAt: number } {
    const waited = now - head.enqueuedAt;
    let wakeAt = Number.POSITIVE_INFINITY;
    for (let index = 0; index < this.levels.length; index++) {
      const level = this.levels[index] as (typeof this.levels)[number];
      const eligibleAfter = this.eligibleAfterMs(index);
      if (waited < eligibleAfter) {
        wakeAt = Math.min(wakeAt, head.enqueuedAt + eligibleAfter);
        break; // later priorities become eligible later still
      }
      const open: ModelEndpoint[] = [];
      for (const endpoint of level.endpoints) {
        const waitMs = endpoint.waitMs(head.cost);
        if (waitMs === 0) open.push(endpoint);
        else {
          this.wantedAt.set(endpoint, now);
          if (waitMs !== undefined) wakeAt = Math.min(wakeAt, now + waitMs);
        }
      }
      if (open.length > 0) return { endpoint: this.byWeight(open) };
    }
    return { wakeAt };
  }

  /** Smooth weighted round robin among deployments that can all take the request now. */
  private byWeight(open: ModelEndpoint[]): ModelEndpoint {
    if (open.length === 1) return open[0] as ModelEndpoint;
    const total = open.reduce((sum, e) => sum + e.weight, 0);
    let best = open[0] as ModelEndpoint;
    for (const endpoint of open) {
      this.credit.set(endpoint, (this.credit.get(endpoint) ?? 0) + endpoint.weight);
      if ((this.credit.get(endpoint) as number) > (this.credit.get(best) as number)) best = endpoint;
    }
    this.credit.set(best, (this.credit.get(best) as number) - total);
    return best;
  }
}

function describeCircuit(endpoint: ModelEndpoint): string {
  const why = endpoint.lastOutage ? ` (last failure: ${endpoint.lastOutage})` : "";
  return `deployment "${endpoint.name}" circuit ${endpoint.breaker.current}${why}`;
}
