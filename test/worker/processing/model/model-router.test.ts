// The router over several deployments: priorities with spillover, weights within a priority, circuits that
// move the load, aborts of queued requests. The requests never leave the process (each deployment's send is a
// function of the test's), so what is asserted is only where each request was routed and in what order.
import { APIError } from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { CONSECUTIVE_FAILURES } from "../../../../worker/processing/model/circuit-breaker";
import { ModelEndpoint, type DeploymentOptions } from "../../../../worker/processing/model/model-endpoint";
import { ModelRouter } from "../../../../worker/processing/model/model-router";
import { isTransientFailure } from "../../../../worker/failures";
import { waitFor } from "../../../../tools/wait-for";

const routers: ModelRouter[] = [];
afterEach(() => routers.splice(0).forEach((r) => r.close()));

function deployment(name: string, priority: number, weight = 1, maxConcurrency = 64, now?: () => number): ModelEndpoint {
  const options: DeploymentOptions = {
    name, priority, weight, quota: {},
    connection: { provider: "openai", baseUrl: "http://127.0.0.1:9/v1", model: name },
  };
  return new ModelEndpoint({ ...options, timeoutMs: 1000, governor: { maxConcurrency, initialConcurrency: maxConcurrency }, ...(now ? { now } : {}) });
}

function routerOf(endpoints: ModelEndpoint[], spilloverAfterMs = 20): ModelRouter {
  const router = new ModelRouter(endpoints, { spilloverAfterMs });
  routers.push(router);
  return router;
}

const ok = () => Promise.resolve({ data: "answer", response: new Response(null) });

/** A send that answers when the test says so, recording which deployment it went to. */
function gatedSends() {
  const sent: Array<{ deployment: string; answer: () => void }> = [];
  const send = (endpoint: ModelEndpoint) =>
    new Promise<{ data: string; response: Response }>((resolve) => {
      sent.push({ deployment: endpoint.name, answer: () => resolve({ data: "answer", response: new Response(null) }) });
    });
  return { sent, send };
}

describe("model router", () => {
  it("sends nothing to priority 1 while priority 0 takes every request", async () => {
    const router = routerOf([deployment("provisioned", 0), deployment("pay-as-you-go", 1)]);
    const answered = await Promise.all(Array.from({ length: 20 }, () => router.call("0", 10, undefined, "chat", ok)));
    expect(answered.map((a) => a.endpoint.name)).toEqual(Array(20).fill("provisioned"));
  });

  it("spills to priority 1 what priority 0 cannot take, and goes back to priority 0 as it frees", async () => {
    const router = routerOf([deployment("provisioned", 0, 1, 1), deployment("pay-as-you-go", 1, 1, 1)]);
    const { sent, send } = gatedSends();
    const calls = Array.from({ length: 3 }, () => router.call("0", 10, undefined, "chat", send));
    // The first fills priority 0's one slot; the second waits there, then spills to priority 1's one slot.
    await waitFor("two requests sent", () => sent.length === 2, 10_000);
    expect(sent.map((s) => s.deployment)).toEqual(["provisioned", "pay-as-you-go"]);
    sent[0]?.answer();
    await waitFor("the third request sent", () => sent.length === 3, 10_000);
    expect(sent[2]?.deployment).toBe("provisioned");
    sent.slice(1).forEach((s) => s.answer());
    expect((await Promise.all(calls)).map((c) => c.endpoint.name)).toEqual(["provisioned", "pay-as-you-go", "provisioned"]);
  });

  it("shares one priority by weight", async () => {
    const router = routerOf([deployment("big", 0, 3), deployment("small", 0, 1)]);
    const answered = await Promise.all(Array.from({ length: 40 }, () => router.call("0", 10, undefined, "chat", ok)));
    const count = (name: string) => answered.filter((a) => a.endpoint.name === name).length;
    expect([count("big"), count("small")]).toEqual([30, 10]);
  });

  it("moves the load off a deployment whose circuit opened, and says which one while another carries it", async () => {
    const primary = deployment("primary", 0, 1, 64, () => 0); // its clock stands still: the break never ends
    const router = routerOf([primary, deployment("secondary", 1)], 60_000);
    const outage = () => Promise.reject(APIError.generate(503, { error: { message: "down" } }, "down", new Headers()));
    for (let i = 0; i < CONSECUTIVE_FAILURES; i++) {
      const failure = await router.call("0", 10, undefined, "chat", outage).catch((error: unknown) => error);
      expect(isTransientFailure(failure)).toBe(true);
    }
    expect(primary.breaker.current).toBe("open");
    // Spillover would take a minute here: an open circuit moves the load at once instead.
    const after = await Promise.all(Array.from({ length: 5 }, () => router.call("0", 10, undefined, "chat", ok)));
    expect(after.map((a) => a.endpoint.name)).toEqual(Array(5).fill("secondary"));
    expect(router.unavailable()).toBeUndefined();
    expect(router.degraded()).toEqual(['deployment "primary" circuit open (last failure: 503); the other deployments carry the load']);
  });

  it("opens a deployment answering 401 with what to check, while the other carries the load", async () => {
    const wrongKey = deployment("wrong-key", 0, 1, 64, () => 0);
    const router = routerOf([wrongKey, deployment("secondary", 0)]);
    const refused = () => Promise.reject(APIError.generate(401, { error: { message: "Access denied due to invalid subscription key." } }, "denied", new Headers()));
    // The two share by weight, so half the calls meet the wrong key: it opens at its fifth failure in a row.
    for (let i = 0; i < 4 * CONSECUTIVE_FAILURES && wrongKey.breaker.current === "closed"; i++) {
      await router.call("0", 10, undefined, "chat", (e) => (e.name === "wrong-key" ? refused() : ok())).catch(() => undefined);
    }
    expect(router.degraded()).toEqual([
      "deployment \"wrong-key\" circuit open (last failure: 401 (check the key, or the identity's Cognitive Services OpenAI User role)); the other deployments carry the load",
    ]);
    const after = await Promise.all(Array.from({ length: 4 }, () => router.call("0", 10, undefined, "chat", ok)));
    expect(after.map((a) => a.endpoint.name)).toEqual(Array(4).fill("secondary"));
  });

  it("sends a retry ahead of first tries, behind earlier retries", async () => {
    const router = routerOf([deployment("only", 0, 1, 1)]);
    const order: string[] = [];
    const { sent, send } = gatedSends();
    const first = router.call("0", 10, undefined, "chat", send);
    await waitFor("the first request sent", () => sent.length === 1, 10_000);
    const labelled = (label: string) => (endpoint: ModelEndpoint) => (order.push(label), ok());
    const queued = [
      router.call("0", 10, undefined, "chat", labelled("first try a")),
      router.call("0", 10, undefined, "chat", labelled("first try b")),
      router.call("1", 10, undefined, "chat", labelled("retry c"), true),
      router.call("2", 10, undefined, "chat", labelled("retry d"), true),
    ];
    sent[0]?.answer();
    await Promise.all([first, ...queued]);
    expect(order).toEqual(["retry c", "retry d", "first try a", "first try b"]);
  });

  it("an abort while queued settles with the signal's reason and sends nothing", async () => {
    const router = routerOf([deployment("only", 0, 1, 1)]);
    const { sent, send } = gatedSends();
    const first = router.call("0", 10, undefined, "chat", send);
    await waitFor("the first request sent", () => sent.length === 1, 10_000);
    const controller = new AbortController();
    const queued = router.call("0", 10, controller.signal, "chat", send).catch((error: unknown) => error);
    controller.abort(new Error("partition handed over"));
    expect(((await queued) as Error).message).toBe("partition handed over");
    sent[0]?.answer();
    await first;
    expect(sent).toHaveLength(1);
    expect(router.waiting).toBe(0);
  });
});
