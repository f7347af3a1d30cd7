import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { EventInput } from "./processor";

/** What a custom processor module provides (see examples/word-count.ts). */
export interface UserModule {
  process(input: EventInput): unknown;
  init?(): unknown;
}

export class UserModuleError extends Error {
  override readonly name = "UserModuleError";
}

const EXPECTED =
  "a module exporting `process(input: EventInput) => unknown | Promise<unknown>` (as a named export `process`, " +
  "a default export function, or a default export object with `process`), and optionally `init()`";

/** Absolute path of a user module given absolute or relative to the working directory; it must be a file. */
export function resolveUserModulePath(modulePath: string, cwd = process.cwd()): string {
  const absolute = path.resolve(cwd, modulePath);
  if (!existsSync(absolute) || !statSync(absolute).isFile()) {
    throw new UserModuleError(`processor module "${modulePath}" not found (looked for the file ${absolute}); expected ${EXPECTED}`);
  }
  return absolute;
}

/** Imports the module and checks its shape. Runs inside each pool thread. */
export async function loadUserModule(absolutePath: string): Promise<UserModule> {
  let namespace: unknown;
  try {
    namespace = await import(pathToFileURL(absolutePath).href);
  } catch (error) {
    throw new UserModuleError(`processor module "${absolutePath}" failed to load: ${(error as Error).message}`);
  }
  // A CommonJS module (or TypeScript compiled to it) shows up as { default: module.exports }, whose own
  // `default` holds an `export default`; look through both layers.
  for (const candidate of exportLayers(namespace)) {
    const userModule = asUserModule(candidate);
    if (userModule) return userModule;
  }
  const found = exportLayers(namespace).flatMap((layer) => (typeof layer === "object" && layer !== null ? Object.keys(layer) : []));
  throw new UserModuleError(
    `processor module "${absolutePath}" has no process function (exports found: [${[...new Set(found)].join(", ")}]); expected ${EXPECTED}`,
  );
}

function exportLayers(namespace: unknown): unknown[] {
  const layers: unknown[] = [namespace];
  let current = namespace;
  for (let depth = 0; depth < 2 && typeof current === "object" && current !== null && "default" in current; depth++) {
    current = current.default;
    layers.push(current);
  }
  return layers;
}

function asUserModule(candidate: unknown): UserModule | undefined {
  if (typeof candidate === "function") return { process: candidate as UserModule["process"] };
  if (typeof candidate !== "object" || candidate === null) return undefined;
  const { process, init } = candidate as { process?: unknown; init?: unknown };
  if (typeof process !== "function") return undefined;
  if (init !== undefined && typeof init !== "function") return undefined;
  const userModule: UserModule = { process: process.bind(candidate) as UserModule["process"] };
  if (typeof init === "function") userModule.init = init.bind(candidate) as () => unknown;
  return userModule;
}
