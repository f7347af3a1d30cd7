// The explorer page in a real headless browser (Debian's chromium through playwright-core) against the emulator,
// Azurite and a real worker process calling a local model server with a quota: it loads, shows the partitions,
// the worker taking ownership and its lag falling to zero, the model quota's use, replays one of the worker's dead
// letters with a click, and the worker dead-letters the replay again (it is still poison). The screenshot at the
// end is the one in docs/explorer.png.
// In CI (CI=true) a missing chromium fails the test; locally it is skipped with a message.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeModelServer } from "../../bench/fake-model-server";
import { startLocalStack, type LocalStack } from "../../emulator";
import { parseConnection } from "../../explorer/settings";
import { startExplorer, type ExplorerServer } from "../../explorer/server";
import { fourPartitionHubs, readDeadLetters, sendToEveryPartition } from "../support/hub-fixtures";
import { waitFor } from "../../tools/wait-for";
import { type TestWorker, WorkerFleet } from "../support/worker-process";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI === "true";
/** Gitignored; docs/explorer.png is a copy of one of these. */
const SCREENSHOT = join(__dirname, "..", "..", "test-output", "explorer.png");
const HUB = "page";
/** 4 requests a second: the backlog keeps the worker at its quota for a few seconds. */
const REQUESTS_PER_MINUTE = 240;

if (!HAVE_CHROMIUM && !IN_CI) console.warn(`explorer page test skipped: no chromium at ${CHROMIUM} (install it with .ci/install-chromium.sh)`);

let stack: LocalStack;
let explorer: ExplorerServer;
let context: BrowserContext;
let page: Page;
let worker: TestWorker | undefined;
let profileDir: string;
let model: FakeModelServer;
const workers = new WorkerFleet(() => stack.env());

beforeAll(async () => {
  if (!HAVE_CHROMIUM) throw new Error(`chromium not found at ${CHROMIUM}: CI must install it (.ci/install-chromium.sh)`);
  stack = await startLocalStack({ config: fourPartitionHubs(HUB) });
  model = await FakeModelServer.start({ quota: { requestsPerMinute: REQUESTS_PER_MINUTE }, latency: { baseMs: 20 } });
  await sendToEveryPartition(stack.eventHubConnectionString, HUB, 10, (i) => i === 4);
  const parsed = parseConnection({}, { ...stack.env(), EVENTHUB_NAME: HUB });
  if (!("connection" in parsed)) throw new Error(parsed.problems.join("\n"));
  explorer = await startExplorer(
    {
      connection: parsed.connection,
      hubs: [HUB],
      consumerGroups: ["ai-workers"],
      peekConsumerGroup: "$Default",
      allowWrites: true,
      // The worker starts during the test; its metrics port is known once it has started.
      workerMetricsUrls: () => {
        const port = worker?.metricsPort;
        return port === undefined ? [] : [`http://127.0.0.1:${String(port)}/metrics`];
      },
      title: "browser test",
    },
    { host: "127.0.0.1", port: 0 },
  );
  profileDir = mkdtempSync(join(tmpdir(), "explorer-chromium-"));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    viewport: { width: 1280, height: 900 },
    // Without these, chromium's background connections are refused by a closed network and slow it down.
    args: ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 90_000);

afterAll(async () => {
  await context?.close();
  await explorer?.close();
  await workers.disposeAll();
  await model?.close();
  await stack?.stop();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

const lagCells = () => page.locator(`[data-testid^="lag-${HUB}-ai-workers-"] [data-testid="lag-events"]`).allTextContents();
const ownerCells = () => page.locator(`[data-testid^="lag-${HUB}-ai-workers-"] td:nth-child(2)`).allTextContents();

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)("explorer page", () => {
  it("shows partitions and a running worker's lag, replays a poison event's dead letter, and the worker dead-letters it again", async () => {
    await page.goto(explorer.url);
    await page.locator(`[data-testid="partition-${HUB}-3"]`).waitFor({ timeout: 30_000 });
    for (const p of ["0", "1", "2", "3"]) {
      await expect.poll(() => page.locator(`[data-testid="partition-${HUB}-${p}"] td:nth-child(2)`).textContent(), { timeout: 15_000 }).toBe("9");
    }
    // No worker yet: nothing owned, everything retained is lag.
    await expect.poll(lagCells, { timeout: 15_000 }).toEqual(["10", "10", "10", "10"]);
    expect(await ownerCells()).toEqual(["never owned", "never owned", "never owned", "never owned"]);

    worker = workers.start("page", HUB, {
      CHECKPOINT_EVERY_EVENTS: "5",
      PROCESSOR: "model",
      MODEL_DEPLOYMENTS: JSON.stringify([{ name: "primary", provider: "azure-openai", endpoint: model.endpoint, deployment: "triage", apiKeyEnv: "MODEL_KEY", requestsPerMinute: REQUESTS_PER_MINUTE }]),
      MODEL_KEY: "test-key",
    });
    await worker.started(30_000);
    let ownerId: string | undefined;
    await waitFor("the worker's owner id", async () => (ownerId = (await worker!.status()).ownerId) !== undefined, 30_000, () => worker?.describe() ?? "");
    const owner = ownerId!.slice(0, 8);
    await expect.poll(ownerCells, { timeout: 45_000 }).toEqual([owner, owner, owner, owner]);
    await expect.poll(lagCells, { timeout: 45_000 }).toEqual(["0", "0", "0", "0"]);
    await expect.poll(() => page.locator('[data-testid="pipeline-total"]').textContent(), { timeout: 20_000 }).toBe("total403640");

    // The model quota: the deployment, the worker as its one replica, its circuit, the quota and a chart of its use.
    const quota = page.locator(`[data-testid="quota-deployment-primary"]`);
    await quota.waitFor({ timeout: 20_000 });
    expect(await quota.locator("h3").textContent()).toBe("primary");
    expect(await quota.locator('[data-testid="quota-limit"]').textContent()).toBe("4.0/s");
    const replicaRow = quota.locator(`[data-testid="quota-replica-${ownerId!}"]`);
    expect(await replicaRow.locator("td").first().textContent()).toBe(owner);
    expect(await replicaRow.locator('[data-testid="circuit"]').textContent()).toBe("closed");
    expect(await quota.locator('[data-testid="circuit-summary"]').textContent()).toBe("circuit closed on its replica");
    expect(await quota.locator('[data-testid="quota-chart"] [data-testid="quota-accepted-line"]').getAttribute("d")).toMatch(/^M/);
    // What the chart draws: the explorer sampled the worker at work (36 model calls at 4 a second take 9 s or more).
    const drawn = (await (await fetch(new URL(`/api/hubs/${HUB}/consumer-groups/ai-workers/model-quota`, explorer.url))).json()) as {
      deployments: Array<{ name: string; history: { accepted: number[]; quota: Array<number | null> } }>;
    };
    const history = drawn.deployments.find((d) => d.name === "primary")!.history;
    expect(Math.max(...history.accepted)).toBeGreaterThan(0);
    expect(history.quota).toContain(REQUESTS_PER_MINUTE / 60);


    // Event 4 of each partition is declared JSON whose body is cut off: the worker dead-letters it as poison.
    const poisonId = `${HUB}/ai-workers/2/4`;
    const row = page.locator(`[data-testid="dead-letter-${poisonId}"]`);
    await row.waitFor({ timeout: 20_000 });
    await row.locator("a").click();
    await expect.poll(() => page.locator('[data-testid="dead-letter-detail"]').textContent()).toContain('body is not valid JSON but contentType is "application/json"');
    await row.locator('input[type="checkbox"]').check();
    await page.locator('[data-testid="replay"]').click();
    await expect.poll(() => page.locator('[data-testid="dead-letter-message"]').textContent(), { timeout: 20_000 }).toBe(`${poisonId}: replayed`);
    await expect.poll(() => row.locator('[data-testid="state"]').textContent(), { timeout: 20_000 }).toBe("replayed");

    // The replay is a new event in partition 2 (sequence number 10), still poison: the running worker dead-letters
    // it again, at its new position and naming the dead letter it came from.
    const again = `${HUB}/ai-workers/2/10`;
    await page.locator(`[data-testid="dead-letter-${again}"]`).waitFor({ timeout: 30_000 });
    const letters = await readDeadLetters(stack.storageConnectionString, stack.deadLetterContainer, HUB);
    expect([...letters.keys()].sort()).toEqual(["0/4", "1/4", "2/10", "2/4", "3/4"].map((at) => `${HUB}/ai-workers/${at}.json`));
    expect(letters.get(`${again}.json`)).toMatchObject({ messageId: "p2-4", properties: { "x-dead-letter-source": poisonId } });
    await expect.poll(lagCells, { timeout: 30_000 }).toEqual(["0", "0", "0", "0"]);
    // The pipeline counts it: one more sent and dead-lettered in partition 2.
    await expect.poll(() => page.locator('[data-testid="pipeline-total"]').textContent(), { timeout: 20_000 }).toBe("total413650");

    // A second replay from the page sends nothing.
    await row.locator('input[type="checkbox"]').check();
    await page.locator('[data-testid="replay"]').click();
    await expect.poll(() => page.locator('[data-testid="dead-letter-message"]').textContent(), { timeout: 20_000 }).toBe(`${poisonId}: already-replayed`);

    await page.locator('[data-testid="partitions"] button').nth(1).click();
    await page.locator('[data-testid="peek"] input').nth(1).fill("3");
    await page.locator('[data-testid="peek"] button[type="submit"]').click();
    await expect.poll(() => page.locator('[data-testid="peek"]').textContent(), { timeout: 20_000 }).toContain("3 events from earliest in partition 1");
    mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  }, 180_000);
});
