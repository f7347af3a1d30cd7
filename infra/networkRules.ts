import ipaddr from "ipaddr.js";

/**
 * The rules Azure enforces on the stack's private network, checked on the config before anything is declared.
 *
 * Sources (Microsoft Learn):
 * - Container Apps, "Networking in Azure Container Apps environment" and "Custom virtual networks"
 *   (container-apps/networking, container-apps/custom-virtual-networks): a workload-profiles environment needs
 *   a subnet of /27 or larger, delegated to Microsoft.App/environments; subnets may not overlap the ranges AKS
 *   reserves or the ones a workload-profiles environment reserves (below).
 * - Virtual network FAQ (virtual-network/virtual-networks-faq): Azure keeps 5 addresses of every subnet.
 * - Private endpoint DNS (private-link/private-endpoint-dns): one NIC address per endpoint, two for a container
 *   registry's (the registry and its regional data endpoint).
 */

/** A workload-profiles environment's infrastructure subnet is at least this big (prefix length at most 27). */
export const ENVIRONMENT_SUBNET_MAX_PREFIX_LENGTH = 27;
export const ENVIRONMENT_SUBNET_DELEGATION = "Microsoft.App/environments";

/** Addresses Azure keeps in every subnet. */
const AZURE_RESERVED_PER_SUBNET = 5;
/** Namespace 1, blob 1, registry 2 (registry + data endpoint), Azure OpenAI 1. */
const MOST_ENDPOINT_ADDRESSES = 5;
/** The smallest subnet that holds every endpoint: /28 (16 addresses). */
export const ENDPOINT_SUBNET_MAX_PREFIX_LENGTH = 32 - Math.ceil(Math.log2(AZURE_RESERVED_PER_SUBNET + MOST_ENDPOINT_ADDRESSES));

/** Ranges no subnet of a Container Apps environment's network may overlap: AKS's, then the workload-profiles environment's. */
export const CONTAINER_APPS_RESERVED_RANGES = [
  "169.254.0.0/16",
  "172.30.0.0/16",
  "172.31.0.0/16",
  "192.0.2.0/24",
  "100.100.0.0/17",
  "100.100.128.0/19",
  "100.100.160.0/19",
  "100.100.192.0/19",
] as const;

export const CIDR_RULE = "an IPv4 range in CIDR notation that starts at its first address, e.g. 10.60.0.0/16";

/** An IPv4 range; only canonical ones (no host bits set), as Azure accepts for address spaces and subnets. */
export interface Ipv4Range {
  text: string;
  address: ipaddr.IPv4;
  prefixLength: number;
}

export function parseIpv4Range(text: string): Ipv4Range | undefined {
  if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) return undefined;
  const [address, prefixLength] = ipaddr.IPv4.parseCIDR(text);
  if (ipaddr.IPv4.networkAddressFromCIDR(text).toString() !== address.toString()) return undefined;
  return { text, address, prefixLength };
}

/** Whether `inner` lies wholly inside `outer`. */
export function rangeContains(outer: Ipv4Range, inner: Ipv4Range): boolean {
  return inner.prefixLength >= outer.prefixLength && inner.address.match(outer.address, outer.prefixLength);
}

/** Two CIDR ranges overlap exactly when one contains the other. */
export function rangesOverlap(a: Ipv4Range, b: Ipv4Range): boolean {
  return rangeContains(a, b) || rangeContains(b, a);
}

const RESERVED = CONTAINER_APPS_RESERVED_RANGES.map((text) => parseIpv4Range(text)!);

export interface PrivateNetworkSettings {
  /** Empty: the stack creates the network with `addressPrefixes`. */
  virtualNetworkId: string;
  addressPrefixes: readonly string[];
  environmentSubnetPrefix: string;
  privateEndpointSubnetPrefix: string;
  /** The Container Apps environment joins the network (deployWorker). */
  hostsEnvironment: boolean;
}

type Report = (key: string, value: unknown, message: string) => void;

/**
 * Sizes, containment, overlaps and reserved ranges. Values that do not parse are reported by their own field
 * and skipped here. An existing network's address space is not known before deployment: Azure checks that the
 * subnets fit it when it creates them.
 */
export function checkPrivateNetwork(settings: PrivateNetworkSettings, report: Report): void {
  const environment = parseIpv4Range(settings.environmentSubnetPrefix);
  const endpoints = parseIpv4Range(settings.privateEndpointSubnetPrefix);
  const subnets = [
    { key: "environmentSubnetPrefix", range: environment },
    { key: "privateEndpointSubnetPrefix", range: endpoints },
  ];

  if (environment && environment.prefixLength > ENVIRONMENT_SUBNET_MAX_PREFIX_LENGTH) {
    report(
      "environmentSubnetPrefix",
      environment.text,
      `must be a /${ENVIRONMENT_SUBNET_MAX_PREFIX_LENGTH} or larger range: a workload-profiles Container Apps environment needs at least /${ENVIRONMENT_SUBNET_MAX_PREFIX_LENGTH} for its infrastructure subnet (each replica of the Consumption profile takes an address)`,
    );
  }
  if (endpoints && endpoints.prefixLength > ENDPOINT_SUBNET_MAX_PREFIX_LENGTH) {
    report(
      "privateEndpointSubnetPrefix",
      endpoints.text,
      `must be a /${ENDPOINT_SUBNET_MAX_PREFIX_LENGTH} or larger range: Azure keeps ${AZURE_RESERVED_PER_SUBNET} addresses of every subnet and the private endpoints take up to ${MOST_ENDPOINT_ADDRESSES} (the registry's takes two)`,
    );
  }
  if (environment && endpoints && rangesOverlap(environment, endpoints)) {
    report("privateEndpointSubnetPrefix", endpoints.text, `overlaps environmentSubnetPrefix ${environment.text}: the two subnets must not share addresses`);
  }

  const spaces = settings.virtualNetworkId === "" ? settings.addressPrefixes.map((text) => parseIpv4Range(text)) : [];
  spaces.forEach((space, i) => {
    const earlier = spaces.slice(0, i).find((other) => space && other && rangesOverlap(space, other));
    if (space && earlier) {
      report(`virtualNetworkAddressPrefixes[${i}]`, space.text, `overlaps ${earlier.text}: a virtual network's address ranges must not overlap`);
    }
  });
  if (settings.virtualNetworkId === "" && spaces.every((space) => space !== undefined)) {
    for (const { key, range } of subnets) {
      if (range && !spaces.some((space) => rangeContains(space!, range))) {
        report(key, range.text, `is not inside virtualNetworkAddressPrefixes (${settings.addressPrefixes.join(", ")}): a subnet must lie in one of its network's address ranges`);
      }
    }
  }

  if (!settings.hostsEnvironment) return;
  const checked = [...subnets, ...spaces.map((range, i) => ({ key: `virtualNetworkAddressPrefixes[${i}]`, range }))];
  for (const { key, range } of checked) {
    const reserved = range && RESERVED.find((r) => rangesOverlap(range, r));
    if (range && reserved) {
      report(key, range.text, `overlaps ${reserved.text}, which Container Apps reserves (${CONTAINER_APPS_RESERVED_RANGES.join(", ")}): choose another range`);
    }
  }
}
