// The runtime module graph of TypeScript entry points: every source file they load and every package they
// import, following static imports, re-exports and literal dynamic imports. Type-only imports are erased by
// the compiler, so they are listed apart: their packages are needed to build, not to run. Also each file's
// imports of other project files (importsOf), for checks on the import graph itself.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

export interface ModuleGraph {
  /** Absolute paths of the source files reached. */
  files: Set<string>;
  /** Bare specifiers imported at run time (packages and node: builtins), with one importer each. */
  packages: Map<string, string>;
  /** Bare specifiers imported only for types, with one importer each. */
  typePackages: Map<string, string>;
}

function specifiersOf(file: string): { runtime: string[]; types: string[] } {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const specifiers: string[] = [];
  const types: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.every((e) => e.isTypeOnly)));
      (onlyTypes ? types : specifiers).push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      (node.isTypeOnly ? types : specifiers).push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === "require")) &&
      node.arguments.length === 1 &&
      ts.isStringLiteral(node.arguments[0]!)
    ) {
      specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { runtime: specifiers, types };
}

function resolveRelative(from: string, specifier: string): string {
  // `./x.js` names the source `./x.ts`, as TypeScript wants a dynamic import written.
  const base = path.resolve(path.dirname(from), specifier.replace(/\.js$/, ""));
  const candidate = [base, `${base}.ts`, path.join(base, "index.ts")].find((p) => p.endsWith(".ts") && existsSync(p));
  if (!candidate) throw new Error(`${from}: cannot resolve ${specifier}`);
  return candidate;
}

export function moduleGraph(entries: string[]): ModuleGraph {
  const graph: ModuleGraph = { files: new Set(), packages: new Map(), typePackages: new Map() };
  const queue = entries.map((entry) => path.resolve(entry));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (graph.files.has(file)) continue;
    graph.files.add(file);
    const { runtime, types } = specifiersOf(file);
    for (const specifier of runtime) {
      if (specifier.startsWith(".")) queue.push(resolveRelative(file, specifier));
      else if (!graph.packages.has(specifier)) graph.packages.set(specifier, file);
    }
    for (const specifier of types) {
      if (!specifier.startsWith(".") && !graph.typePackages.has(specifier)) graph.typePackages.set(specifier, file);
    }
  }
  return graph;
}

/** The project's files that `file` imports, at run time or for types only: its edges in the import graph. */
export function importsOf(file: string): string[] {
  const { runtime, types } = specifiersOf(file);
  return [...new Set([...runtime, ...types].filter((specifier) => specifier.startsWith(".")).map((specifier) => resolveRelative(file, specifier)))];
}

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}
