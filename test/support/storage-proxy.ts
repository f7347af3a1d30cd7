// A loopback HTTP proxy in front of Azurite that answers 503 to the requests a test chooses (every request whose
// path or query matches), so a test can take one part of the storage account away (the fleet records, say) while
// the rest keeps working. Shared Key signatures do not cover the host, so clients sign as for Azurite itself.
import { createServer, request as forward, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export class StorageProxy {
  /** Requests whose URL this matches are refused with 503; undefined refuses nothing. */
  failing: RegExp | undefined;
  refused = 0;

  private constructor(private readonly server: Server) {}

  static async start(target: { host: string; port: number }): Promise<StorageProxy> {
    let proxy: StorageProxy | undefined;
    const server = createServer((req, res) => {
      if (proxy?.failing?.test(decodeURIComponent(req.url ?? ""))) {
        proxy.refused++;
        req.resume();
        res.writeHead(503, { "content-type": "application/xml", "x-ms-error-code": "ServerBusy" });
        res.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>refused by the test proxy</Message></Error>');
        return;
      }
      const upstream = forward({ host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
    proxy = new StorageProxy(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The storage connection string of the account behind the proxy, reached through it. */
  connectionString(accountConnectionString: string): string {
    return accountConnectionString.replace(/BlobEndpoint=http:\/\/[^/;]+/, `BlobEndpoint=http://127.0.0.1:${this.port}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
