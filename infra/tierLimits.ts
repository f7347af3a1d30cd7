/**
 * Azure Event Hubs quotas per tier (https://learn.microsoft.com/azure/event-hubs/event-hubs-quotas) and the
 * features each tier has (https://learn.microsoft.com/azure/event-hubs/compare-tiers).
 * Config validation checks against these before any resource is declared, so a bad value fails in
 * seconds on the developer's machine rather than minutes into `pulumi up`.
 */
export const EVENT_HUBS_SKUS = ["Basic", "Standard", "Premium"] as const;
export type EventHubsSku = (typeof EVENT_HUBS_SKUS)[number];

export interface TierLimits {
  /** Partitions per event hub. */
  maxPartitions: number;
  /** Event retention, in hours. */
  maxRetentionHours: number;
  /** Consumer groups per event hub, `$Default` included. */
  maxConsumerGroups: number;
  /** Allowed `sku.capacity` values: throughput units (Basic/Standard) or processing units (Premium). */
  capacities: readonly number[];
  /** What `capacities` means, for error messages. */
  capacityDescription: string;
  /** Whether the tier can auto-inflate throughput units. */
  autoInflate: boolean;
  /** Capture to Blob storage (Avro): Standard (billed per throughput unit) and Premium (included). */
  capture: boolean;
  /** Geo-disaster recovery (metadata pairing with a namespace in another region, behind one alias). */
  geoDisasterRecovery: boolean;
  /**
   * Zone redundancy (`zoneRedundant`, fixed at creation). Azure also needs a region with availability zones,
   * which only deployment can tell: the list of zone-enabled regions changes and differs per subscription.
   */
  zoneRedundancy: boolean;
}

const THROUGHPUT_UNITS = Array.from({ length: 40 }, (_, i) => i + 1);

export const TIER_LIMITS: Readonly<Record<EventHubsSku, TierLimits>> = {
  Basic: {
    maxPartitions: 32,
    maxRetentionHours: 24,
    maxConsumerGroups: 1,
    capacities: THROUGHPUT_UNITS,
    capacityDescription: "1-40 throughput units",
    autoInflate: false,
    capture: false,
    geoDisasterRecovery: false,
    zoneRedundancy: false,
  },
  Standard: {
    maxPartitions: 32,
    maxRetentionHours: 168,
    maxConsumerGroups: 20,
    capacities: THROUGHPUT_UNITS,
    capacityDescription: "1-40 throughput units",
    autoInflate: true,
    capture: true,
    geoDisasterRecovery: true,
    zoneRedundancy: true,
  },
  Premium: {
    maxPartitions: 100,
    maxRetentionHours: 2160,
    maxConsumerGroups: 100,
    capacities: [1, 2, 4, 6, 8, 10, 12, 16],
    capacityDescription: "1, 2, 4, 6, 8, 10, 12 or 16 processing units",
    autoInflate: false,
    capture: true,
    geoDisasterRecovery: true,
    zoneRedundancy: true,
  },
};

/** The most throughput units auto-inflate may scale a Standard namespace to. */
export const MAX_AUTO_INFLATE_THROUGHPUT_UNITS = 40;
