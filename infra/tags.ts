/** Tags the program sets on every taggable resource; users may not override them. */
export const BUILT_IN_TAG_NAMES = ["managed-by", "pulumi-project", "pulumi-stack"] as const;

/** The user's tags plus where the resource comes from. */
export function stackTags(userTags: Record<string, string>, project: string, stack: string): Record<string, string> {
  const builtIn: Record<(typeof BUILT_IN_TAG_NAMES)[number], string> = {
    "managed-by": "pulumi",
    "pulumi-project": project,
    "pulumi-stack": stack,
  };
  return { ...userTags, ...builtIn };
}
