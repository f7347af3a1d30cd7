// The stack's guard rails as Pulumi resource policies. Each checks the inputs a resource is declared with, so a
// pull request that weakens one fails its preview before anything reaches Azure.
import * as app from "@pulumi/azure-native/app";
import * as authorization from "@pulumi/azure-native/authorization";
import * as cognitiveservices from "@pulumi/azure-native/cognitiveservices";
import * as eventhub from "@pulumi/azure-native/eventhub";
import * as storage from "@pulumi/azure-native/storage";
import { validateResourceOfType, type PolicyResource, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import { BUILT_IN_TAG_NAMES } from "../infra/tags";

const EVENT_HUBS_TLS = ["1.2", "1.3"];
const STORAGE_TLS = ["TLS1_2", "TLS1_3"];

const tlsMinimum: ResourceValidationPolicy = {
  name: "tls-1-2-minimum",
  description: "Event Hubs namespaces and storage accounts refuse TLS below 1.2, and storage refuses plain HTTP.",
  validateResource: [
    validateResourceOfType(eventhub.Namespace, (namespace, _args, reportViolation) => {
      if (!EVENT_HUBS_TLS.includes(String(namespace.minimumTlsVersion))) {
        reportViolation(`minimumTlsVersion is ${namespace.minimumTlsVersion ?? "not set (Azure then accepts TLS 1.0)"}; set "1.2".`);
      }
    }),
    validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
      if (!STORAGE_TLS.includes(String(account.minimumTlsVersion))) {
        reportViolation(`minimumTlsVersion is ${account.minimumTlsVersion ?? "not set (Azure then accepts TLS 1.0)"}; set "TLS1_2".`);
      }
      if (account.enableHttpsTrafficOnly === false) reportViolation("enableHttpsTrafficOnly is false; storage must refuse plain HTTP.");
    }),
  ],
};

const noPublicBlobAccess: ResourceValidationPolicy = {
  name: "no-public-blob-access",
  description: "Storage accounts disallow anonymous blob access and no container is public.",
  validateResource: [
    validateResourceOfType(storage.StorageAccount, (account, _args, reportViolation) => {
      // Said explicitly: the default has changed over API versions.
      if (account.allowBlobPublicAccess !== false) reportViolation("allowBlobPublicAccess must be set to false.");
    }),
    validateResourceOfType(storage.BlobContainer, (container, _args, reportViolation) => {
      if (container.publicAccess !== undefined && container.publicAccess !== storage.PublicAccess.None) {
        reportViolation(`publicAccess is ${container.publicAccess}; containers must be private (None).`);
      }
    }),
  ],
};

const manageRight = (rights: readonly string[] | undefined) => (rights ?? []).some((right) => right.toLowerCase() === "manage");
const noManageRules: ResourceValidationPolicy = {
  name: "no-manage-authorization-rules",
  description: "No Event Hubs SAS rule grants Manage: applications get Listen or Send on one hub, never the right to manage it.",
  validateResource: [
    validateResourceOfType(eventhub.EventHubAuthorizationRule, (rule, _args, reportViolation) => {
      if (manageRight(rule.rights)) reportViolation(`rights ${JSON.stringify(rule.rights)} include Manage; grant Listen or Send only.`);
    }),
    validateResourceOfType(eventhub.NamespaceAuthorizationRule, (rule, _args, reportViolation) => {
      if (manageRight(rule.rights)) reportViolation(`rights ${JSON.stringify(rule.rights)} include Manage; grant Listen or Send only.`);
    }),
  ],
};

const roleAssignmentsToServicePrincipals: ResourceValidationPolicy = {
  name: "role-assignments-to-service-principals",
  description: "Role assignments go to workload identities and say so: principalType ServicePrincipal.",
  validateResource: validateResourceOfType(authorization.RoleAssignment, (assignment, _args, reportViolation) => {
    if (assignment.principalType !== authorization.PrincipalType.ServicePrincipal) {
      reportViolation(
        `principalType is ${assignment.principalType ?? "not set (ARM assumes User)"}; this stack grants roles to managed identities and service principals only: set "ServicePrincipal".`,
      );
    }
  }),
};

interface RequiredTagsConfig {
  /** Tags required on top of the ones the program always sets. */
  additionalTags?: string[];
}

const requiredTags: ResourceValidationPolicy = {
  name: "required-tags",
  description: `Every Azure resource that takes tags (the ones with a location) carries ${BUILT_IN_TAG_NAMES.join(", ")} and any configured additionalTags.`,
  configSchema: {
    properties: { additionalTags: { type: "array", items: { type: "string" }, default: [] } },
  },
  validateResource: (args, reportViolation) => {
    // ARM's tracked resources are the ones with a location; child resources (hubs, containers, grants) take no tags.
    if (!args.type.startsWith("azure-native:") || args.props.location === undefined) return;
    const tags = (args.props.tags ?? {}) as Record<string, unknown>;
    const present = new Set(Object.entries(tags).filter(([, value]) => typeof value === "string" && value !== "").map(([name]) => name.toLowerCase()));
    const required = [...BUILT_IN_TAG_NAMES, ...(args.getConfig<RequiredTagsConfig>().additionalTags ?? [])];
    const missing = required.filter((name) => !present.has(name.toLowerCase()));
    if (missing.length > 0) reportViolation(`missing tag${missing.length === 1 ? "" : "s"} ${missing.join(", ")}.`);
  },
};

const PROBES = [app.Type.Liveness, app.Type.Readiness];
const containerAppsProbed: ResourceValidationPolicy = {
  name: "container-apps-health-probes",
  description: "Every container of a Container App has liveness and readiness probes, so a hung worker is restarted and a broken revision is seen.",
  validateResource: validateResourceOfType(app.ContainerApp, (containerApp, _args, reportViolation) => {
    const containers = containerApp.template?.containers ?? [];
    if (containers.length === 0) reportViolation("declares no containers, so none is probed.");
    for (const container of containers) {
      const types = new Set((container.probes ?? []).map((probe) => probe.type));
      const missing = PROBES.filter((type) => !types.has(type));
      if (missing.length > 0) reportViolation(`container ${container.name ?? "(unnamed)"} has no ${missing.join(" or ")} probe.`);
    }
  }),
};

/** Account kinds that serve Azure OpenAI deployments: the classic OpenAI kind and the multi-service AI Services kind. */
const OPENAI_KINDS = ["openai", "aiservices"];
const openAiLocalAuthDisabled: ResourceValidationPolicy = {
  name: "openai-local-auth-disabled",
  description: "Azure OpenAI accounts have local (API key) auth disabled: callers sign in with Entra ID and need a role, and no key can leak.",
  validateResource: validateResourceOfType(cognitiveservices.Account, (account, _args, reportViolation) => {
    if (!OPENAI_KINDS.includes(String(account.kind).toLowerCase())) return;
    if (account.properties?.disableLocalAuth !== true) {
      reportViolation(
        `properties.disableLocalAuth is ${account.properties?.disableLocalAuth ?? "not set (Azure then accepts API keys)"}; set true and grant Cognitive Services OpenAI User instead.`,
      );
    }
  }),
};

const modelDeploymentsDeclareCapacity: ResourceValidationPolicy = {
  name: "model-deployments-declare-capacity",
  description: "Model deployments declare their type and capacity (sku.name, sku.capacity): the capacity is their quota, and the workers are sized from it.",
  validateResource: validateResourceOfType(cognitiveservices.Deployment, (deployment, _args, reportViolation) => {
    const capacity = deployment.sku?.capacity;
    if (deployment.sku?.name === undefined) reportViolation("sku.name is not set; name the deployment type, e.g. GlobalStandard.");
    if (capacity === undefined || !Number.isInteger(capacity) || capacity < 1) {
      reportViolation(`sku.capacity is ${capacity ?? "not set (Azure then picks a default)"}; declare the deployment's capacity units, a whole number of at least 1.`);
    }
  }),
};

/** Resources whose public access, when off, must be replaced by a private endpoint in the same stack. */
const PRIVATE_LINK_TYPES = [
  "azure-native:eventhub:Namespace",
  "azure-native:storage:StorageAccount",
  "azure-native:containerregistry:Registry",
  "azure-native:cognitiveservices:Account",
];
const publicAccessOf = (r: PolicyResource) => r.props.publicNetworkAccess ?? r.props.properties?.publicNetworkAccess;
/** Whether `endpoint`'s connection names `target` (through the property dependency on its id). */
const connects = (endpoint: PolicyResource, target: PolicyResource) =>
  (endpoint.propertyDependencies.privateLinkServiceConnections ?? []).some((r) => r.urn === target.urn);

const privateEndpointsWhenPublicAccessOff: StackValidationPolicy = {
  name: "private-endpoints-when-public-access-off",
  description: "A namespace, storage account, registry or Azure OpenAI account with public network access Disabled has a private endpoint in the stack, or nothing could reach it.",
  validateStack: (args, reportViolation) => {
    const endpoints = args.resources.filter((r) => r.type === "azure-native:network:PrivateEndpoint");
    for (const resource of args.resources) {
      if (!PRIVATE_LINK_TYPES.includes(resource.type) || publicAccessOf(resource) !== "Disabled") continue;
      if (!endpoints.some((endpoint) => connects(endpoint, resource))) {
        reportViolation(`${resource.name} has public network access Disabled and no private endpoint: set privateNetworking true (or add an endpoint).`, resource.urn);
      }
    }
  },
};

/** What a diagnostic setting should cover once a stack sends any: every service the stack monitors. */
const DIAGNOSED_TYPES = [
  "azure-native:eventhub:Namespace",
  "azure-native:storage:BlobServiceProperties",
  "azure-native:containerregistry:Registry",
  "azure-native:cognitiveservices:Account",
  "azure-native:app:ManagedEnvironment",
];
const diagnosticSettingsPresent: StackValidationPolicy = {
  name: "diagnostic-settings-present",
  description: "In a stack that sends diagnostics to Log Analytics, every namespace, blob service, registry, Azure OpenAI account and Container Apps environment has a diagnostic setting (none left out by accident).",
  validateStack: (args, reportViolation) => {
    const settings = args.resources.filter((r) => r.type === "azure-native:monitor:DiagnosticSetting");
    if (settings.length === 0) return;
    for (const resource of args.resources.filter((r) => DIAGNOSED_TYPES.includes(r.type))) {
      const covered = settings.some((s) => (s.propertyDependencies.resourceUri ?? []).some((target) => target.urn === resource.urn));
      if (!covered) reportViolation(`${resource.name} (${resource.type}) has no diagnostic setting while the stack's other resources do.`, resource.urn);
    }
  },
};

export const stackPolicies: StackValidationPolicy[] = [privateEndpointsWhenPublicAccessOff, diagnosticSettingsPresent];

export const policies: ResourceValidationPolicy[] = [
  tlsMinimum,
  noPublicBlobAccess,
  noManageRules,
  roleAssignmentsToServicePrincipals,
  requiredTags,
  containerAppsProbed,
  openAiLocalAuthDisabled,
  modelDeploymentsDeclareCapacity,
];
