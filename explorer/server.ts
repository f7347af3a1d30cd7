// The explorer's HTTP server: the page (static files, preact and htm served straight from node_modules, no build
// step), and the JSON API. Bound to 127.0.0.1 unless told otherwise; requests must name this server in Host
// (no DNS rebinding), and a write must be a same-origin JSON POST (no cross-site form posts).
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { handleApi, HttpError } from "./api";
import { Explorer, type ExplorerConfig } from "./explorer";

/** The ES module build next to a package's CommonJS entry (dist/x.js -> dist/x.mjs). */
const esModuleOf = (specifier: string, file: string) => join(dirname(require.resolve(specifier)), file);

/** URL path -> file and content type. Only these files are served. */
const STATIC: Record<string, [string, string]> = {
  "/": [join(__dirname, "page", "index.html"), "text/html; charset=utf-8"],
  "/app.js": [join(__dirname, "page", "app.js"), "text/javascript; charset=utf-8"],
  "/style.css": [join(__dirname, "page", "style.css"), "text/css; charset=utf-8"],
  "/vendor/preact.mjs": [esModuleOf("preact", "preact.mjs"), "text/javascript; charset=utf-8"],
  "/vendor/hooks.mjs": [esModuleOf("preact/hooks", "hooks.mjs"), "text/javascript; charset=utf-8"],
  "/vendor/htm.mjs": [esModuleOf("htm", "htm.mjs"), "text/javascript; charset=utf-8"],
};

const MAX_BODY_BYTES = 1024 * 1024;

export interface ExplorerServer {
  readonly url: string;
  readonly port: number;
  readonly explorer: Explorer;
  close(): Promise<void>;
}

export async function startExplorer(config: ExplorerConfig, listen: { host: string; port: number }): Promise<ExplorerServer> {
  const explorer = new Explorer(config);
  let allowedHosts: Set<string> | undefined = new Set<string>();
  const server = createServer((request, response) => {
    serve(explorer, allowedHosts, request, response).catch((error: unknown) => send(response, 500, { error: String(error) }));
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  // On every interface the page is reachable under names we cannot know: the Host check is off there.
  allowedHosts = ["0.0.0.0", "::"].includes(listen.host) ? undefined : new Set([`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);
  return {
    url: `http://${host}:${port}/`,
    port,
    explorer,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await explorer.close();
    },
  };
}

function send(response: ServerResponse, status: number, value: unknown): void {
  if (response.headersSent) return void response.end();
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" }).end(JSON.stringify(value));
}

async function serve(explorer: Explorer, allowedHosts: Set<string> | undefined, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const hostHeader = request.headers.host ?? "";
  if (allowedHosts && !allowedHosts.has(hostHeader)) return send(response, 421, { error: `unexpected Host ${JSON.stringify(hostHeader)}` });
  const url = new URL(request.url ?? "/", `http://${hostHeader}`);
  const method = request.method ?? "GET";

  const file = STATIC[url.pathname];
  if (file && method === "GET") {
    const [path, contentType] = file;
    response.writeHead(200, { "content-type": contentType, "cache-control": "no-cache", "x-content-type-options": "nosniff" }).end(await readFile(path));
    return;
  }
  if (!url.pathname.startsWith("/api/")) return send(response, 404, { error: `not found: ${url.pathname}` });

  let body: unknown;
  if (method === "POST") {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${hostHeader}`) return send(response, 403, { error: `cross-origin request from ${origin} refused` });
    if (!(request.headers["content-type"] ?? "").startsWith("application/json")) {
      return send(response, 415, { error: "a POST body must be JSON (content-type: application/json)" });
    }
    try {
      body = JSON.parse((await readBody(request)) || "{}");
    } catch (error) {
      return send(response, 400, { error: `request body: ${error instanceof Error ? error.message : String(error)}` });
    }
  } else if (method !== "GET") {
    return send(response, 405, { error: `method ${method} not allowed` });
  }

  try {
    send(response, 200, await handleApi(explorer, { method, path: url.pathname, query: url.searchParams, body }));
  } catch (error) {
    if (error instanceof HttpError) return send(response, error.status, { error: error.message, problems: error.problems });
    send(response, 502, { error: error instanceof Error ? error.message : String(error) });
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
