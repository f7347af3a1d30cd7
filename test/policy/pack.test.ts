// The policy pack loaded the way `pulumi preview --policy-pack policy` loads it: @pulumi/pulumi's
// run-policy-pack entry (ts-node with the project's TypeScript) in the pack's directory. It serves the Analyzer
// gRPC service; the test asks it for its policies and has it analyze a resource, as the engine would.
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policies, stackPolicies } from "../../policy/policies";

const REPO = path.join(__dirname, "..", "..");
const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
// The gRPC library instance the generated client was built with.
const grpc = fromPulumi("@grpc/grpc-js") as typeof import("@grpc/grpc-js");

let pack: ChildProcess;
let client: analyzerGrpc.AnalyzerClient;
const stderr: string[] = [];

const call = <Req, Res>(method: (req: Req, callback: (error: unknown, res: Res) => void) => unknown, request: Req) =>
  new Promise<Res>((resolve, reject) => method.call(client, request, (error, response) => (error ? reject(error) : resolve(response))));

beforeAll(async () => {
  pack = spawn(process.execPath, [fromPulumi.resolve("@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:1", "."], {
    cwd: path.join(REPO, "policy"),
    stdio: ["ignore", "pipe", "pipe"],
  });
  createInterface({ input: pack.stderr! }).on("line", (line) => stderr.push(line));
  // The pack prints the port it serves on, then nothing else.
  const giveUp = new AbortController();
  const port = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: pack.stdout! }).once("line", resolve)),
    sleep(50_000, undefined, { signal: giveUp.signal }).then(
      () => Promise.reject(new Error(`the policy pack did not start:\n${stderr.join("\n")}`)),
      () => "",
    ),
  ]).finally(() => giveUp.abort());
  client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port.trim()}`, grpc.credentials.createInsecure());
});
afterAll(() => {
  client?.close();
  pack?.kill("SIGKILL");
});

describe("the policy pack under Pulumi's policy runner", () => {
  it("loads, compiles and serves every policy, all mandatory", async () => {
    const info = await call<Empty, analyzerPb.AnalyzerInfo>(client.getAnalyzerInfo, new Empty());
    expect(info.getName()).toBe("eventhubs-ai-workers-guardrails");
    expect(info.getVersion()).toBe("1.0.0");
    expect(info.getPoliciesList().map((p) => p.getName()).sort()).toEqual([...policies, ...stackPolicies].map((p) => p.name).sort());
    expect(new Set(info.getPoliciesList().map((p) => p.getEnforcementlevel()))).toEqual(new Set([analyzerPb.EnforcementLevel.MANDATORY]));
  });

  it("reports a violating resource the engine sends, and passes a compliant one", async () => {
    const analyze = (type: string, properties: Record<string, unknown>) => {
      const request = new analyzerPb.AnalyzeRequest();
      request.setType(type);
      request.setName("grant");
      request.setUrn(`urn:pulumi:dev::eventhubs-ai-workers::${type}::grant`);
      request.setProperties(Struct.fromJavaScript(properties as Record<string, never>));
      request.setOptions(new analyzerPb.AnalyzerResourceOptions()); // the engine always sends them
      return call<analyzerPb.AnalyzeRequest, analyzerPb.AnalyzeResponse>(client.analyze, request);
    };
    const bad = await analyze("azure-native:authorization:RoleAssignment", { principalId: "p", principalType: "User" });
    expect(bad.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getEnforcementlevel()])).toEqual([
      ["role-assignments-to-service-principals", analyzerPb.EnforcementLevel.MANDATORY],
    ]);
    expect(bad.getDiagnosticsList()[0]!.getMessage()).toMatch(/principalType is User/);

    const good = await analyze("azure-native:authorization:RoleAssignment", { principalId: "p", principalType: "ServicePrincipal" });
    expect(good.getDiagnosticsList()).toEqual([]);
  });
});
