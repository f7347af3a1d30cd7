// The runtime module graph of a TypeScript entry point: every source file it loads and every package it
// imports, following static imports, re-exports and literal dynamic imports. Type-only imports are left out
// (the loader erases them), so a package used only for types need not be a production dependency.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

export interface ModuleGraph {
  /** Absolute paths of the source files reached. */
  files: Set<string>;
  /** Bare specifiers imported at run time (packages and node: builtins), with one importer each. */
  packages: Map<string, string>;
}

function runtimeSpecifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.every((e) => e.isTypeOnly)));
      if (!onlyTypes) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) && !node.isTypeOnly) {
      specifiers.push(node.moduleSpecifier.text);
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
  return specifiers;
}

function resolveRelative(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(from), specifier);
  const candidate = [base, `${base}.ts`, path.join(base, "index.ts")].find((p) => p.endsWith(".ts") && existsSync(p));
  if (!candidate) throw new Error(`${from}: cannot resolve ${specifier}`);
  return candidate;
}

export function moduleGraph(entry: string): ModuleGraph {
  const graph: ModuleGraph = { files: new Set(), packages: new Map() };
  const queue = [path.resolve(entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (graph.files.has(file)) continue;
    graph.files.add(file);
    for (const specifier of runtimeSpecifiers(file)) {
      if (specifier.startsWith(".")) queue.push(resolveRelative(file, specifier));
      else if (!graph.packages.has(specifier)) graph.packages.set(specifier, file);
    }
  }
  return graph;
}

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}
