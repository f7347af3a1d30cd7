import type { StackConfig } from "./config";

/** Storage redundancies that keep a copy in every availability zone of the region. */
export const ZONE_REDUNDANT_STORAGE_SKUS = ["Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS"] as const;

/**
 * Settings Azure accepts but that undo each other, for `pulumi preview` to show (pulumi.log.warn). Not errors:
 * each can be a deliberate choice.
 */
export function stackWarnings(config: StackConfig): string[] {
  const warnings: string[] = [];
  if (config.zoneRedundant && !(ZONE_REDUNDANT_STORAGE_SKUS as readonly string[]).includes(config.storageSku)) {
    warnings.push(
      `zoneRedundant keeps the namespace up through a zone outage, but storageSku ${config.storageSku} keeps the checkpoints in one zone: the workers stop with it. Use ${ZONE_REDUNDANT_STORAGE_SKUS.join(", ")} (docs/enterprise.md)`,
    );
  }
  if (config.privateNetworking && config.diagnostics && !config.deployWorker && config.diagnosticsWorkspaceId === undefined) {
    warnings.push(
      "diagnostics is on but no diagnostic setting is made: the stack has no Log Analytics workspace without deployWorker. Set diagnosticsWorkspaceId to your central workspace's resource id, or diagnostics to false",
    );
  }
  return warnings;
}
