// Runs the stack program through Pulumi's own Node.js language-host entry point
// (@pulumi/pulumi/cmd/run, what `pulumi up` executes), with Pulumi's mock monitor in place of the
// engine. That entry registers ts-node (vendored 7.0.1, type-checking) with the project's
// `typescript` and tsconfig.json, requires package.json's `main`, and wraps the program in a Stack.
// On exit it prints one JSON line: the resource types registered, the stack outputs (secret or not)
// and whether ts-node compiled the program. Plain JavaScript: a TypeScript loader here would hide
// what ts-node does.
"use strict";
const path = require("node:path");

const projectRoot = path.resolve(__dirname, "..", "..", "..");
const fromProject = (id) => require(require.resolve(id, { paths: [projectRoot] }));
const pulumi = fromProject("@pulumi/pulumi");
const rpc = fromProject("@pulumi/pulumi/runtime/rpc");

const registered = [];
const mockedName = (type, inputs, fallback) => {
  const byType = {
    "azure-native:resources:ResourceGroup": inputs.resourceGroupName,
    "azure-native:eventhub:Namespace": inputs.namespaceName,
    "azure-native:eventhub:EventHub": inputs.eventHubName,
    "azure-native:eventhub:ConsumerGroup": inputs.consumerGroupName,
    "azure-native:eventhub:EventHubAuthorizationRule": inputs.authorizationRuleName,
    "azure-native:storage:StorageAccount": inputs.accountName,
    "azure-native:storage:BlobContainer": inputs.containerName,
    "azure-native:authorization:RoleAssignment": inputs.roleAssignmentName,
  };
  return byType[type] ?? fallback;
};

pulumi.runtime.setMocks(
  {
    newResource({ type, name, inputs }) {
      registered.push(type);
      const resourceName = mockedName(type, inputs, name);
      return {
        id: `/mock/${type}/${resourceName}`,
        state: {
          ...inputs,
          name: resourceName,
          serviceBusEndpoint: `https://${resourceName}.servicebus.windows.net:443/`,
          primaryEndpoints: { blob: `https://${resourceName}.blob.core.windows.net/` },
        },
      };
    },
    call({ token, inputs }) {
      if (token === "azure-native:authorization:getClientConfig") return { subscriptionId: "00000000-0000-4000-8000-000000000000" };
      if (token === "azure-native:eventhub:listEventHubKeys") return { primaryConnectionString: `Endpoint=sb://mock/;EntityPath=${inputs.eventHubName}` };
      if (token === "azure-native:storage:listStorageAccountKeys") return { keys: [{ value: "key" }] };
      throw new Error(`unexpected invoke ${token}`);
    },
  },
  "eventhubs-ai-workers",
  "dev",
  false,
);

// Play the engine's part the mock monitor leaves out: record the Stack's outputs, acknowledge shutdown.
const monitor = pulumi.runtime.getMonitor();
let stackOutputs = {};
const registerResourceOutputs = monitor.registerResourceOutputs.bind(monitor);
monitor.registerResourceOutputs = (req, callback) => {
  if (req.getUrn().includes("::pulumi:pulumi:Stack::")) {
    stackOutputs = rpc.deserializeProperties(req.getOutputs(), true);
  }
  registerResourceOutputs(req, callback);
};
monitor.signalAndWaitForShutdown = (_req, callback) => callback(null, {});

const tsLoaderBefore = require.extensions[".ts"];
process.on("exit", (code) => {
  if (code !== 0) return;
  const outputs = {};
  for (const [key, value] of Object.entries(stackOutputs)) {
    outputs[key] = { secret: rpc.isRpcSecret(value), value: rpc.unwrapRpcSecret(value) };
  }
  process.stdout.write(
    JSON.stringify({
      registered,
      outputs,
      tsNodeRegistered: require.extensions[".ts"] !== tsLoaderBefore,
      typescriptVersion: fromProject("typescript").version,
    }) + "\n",
  );
});

// What the nodejs language host passes: a TypeScript program, the project directory as the program.
process.env.PULUMI_NODEJS_TYPESCRIPT = "true";
process.argv = [process.argv[0], "run", "--monitor=mock", "--project=eventhubs-ai-workers", "--stack=dev", `--pwd=${projectRoot}`, "."];
fromProject("@pulumi/pulumi/cmd/run");
