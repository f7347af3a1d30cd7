// The policy pack `pulumi preview --policy-pack policy` runs (Pulumi loads this file through ts-node, with the
// repository's node_modules). The rules live in ./policies, where tests exercise them without the CLI.
import { PolicyPack } from "@pulumi/policy";
import { policies, stackPolicies } from "./policies";

new PolicyPack("eventhubs-ai-workers-guardrails", { enforcementLevel: "mandatory", policies: [...policies, ...stackPolicies] });
