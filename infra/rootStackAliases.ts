import * as pulumi from "@pulumi/pulumi";

/**
 * Before the stack became one component (EventHubsAiWorkers), its parts were children of the Pulumi stack itself,
 * named without the component's prefix: `event-hubs`, not `aiworkers-event-hubs`. Moving a resource changes its
 * URN, and a resource whose URN changed is replaced, namespace and storage included. This transform gives each
 * direct child of the root program's component an alias to its old URN, so `pulumi up` on a stack deployed before
 * moves the state instead; their own children inherit the alias (Pulumi derives a child's alias from its parent's).
 * For the repository's own program only: a program that starts with the component has no old URNs.
 */
export function aliasToPreComponentUrns(componentName: string, componentType: string): pulumi.ResourceTransform {
  const prefix = `${componentName}-`;
  const parentUrnSuffix = `${componentType}::${componentName}`;
  return async ({ name, props, opts }) => {
    if (!name.startsWith(prefix) || opts.parent === undefined) return undefined;
    const parentUrn = await new Promise<string>((resolve) => opts.parent!.urn.apply(resolve));
    if (!parentUrn.endsWith(parentUrnSuffix)) return undefined;
    const alias: pulumi.Alias = { name: name.slice(prefix.length), parent: pulumi.rootStackResource };
    return { props, opts: { ...opts, aliases: [...(opts.aliases ?? []), alias] } };
  };
}
