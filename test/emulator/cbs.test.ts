// CBS authorization: SAS signature checks (spec §2.3 vector), key names, expiry and audiences, through
// the real SDK with key and SharedAccessSignature connection strings, and the switch that turns it off.
import { createHmac } from "node:crypto";
import { EventHubProducerClient } from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySasToken } from "../../emulator/cbs";
import type { EventHubsEmulator } from "../../emulator/server";
import { errorCode, HUB, retryOptions, startEmulator } from "./broker-helpers";

const KEYS = [{ name: "RootManageSharedAccessKey", key: "SAS_KEY_VALUE" }];
const SPEC_VECTOR =
  "SharedAccessSignature sr=sb%3A%2F%2Flocalhost%2Feh1&sig=bXwnzzxeV2PFlM%2BGaXaWproC2URqPYHFIhvxuIqXTAA%3D&se=1700000000&skn=RootManageSharedAccessKey";

function sasToken(resource: string, keyName: string, key: string, expirySeconds: number): string {
  const sr = encodeURIComponent(resource);
  const sig = createHmac("sha256", key).update(`${sr}\n${expirySeconds}`).digest("base64");
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expirySeconds}&skn=${encodeURIComponent(keyName)}`;
}

describe("SAS token verification", () => {
  const beforeExpiry = 1_699_999_000_000;

  it("accepts the spec's test vector for its audience and the entities below it", () => {
    expect(verifySasToken(SPEC_VECTOR, "sb://localhost/eh1", KEYS, beforeExpiry).ok).toBe(true);
    expect(verifySasToken(SPEC_VECTOR, "sb://localhost/eh1/Partitions/0", KEYS, beforeExpiry).ok).toBe(true);
  });

  it("refuses an expired token, another audience, a wrong key and an unknown key name", () => {
    expect(verifySasToken(SPEC_VECTOR, "sb://localhost/eh1", KEYS, 1_700_000_000_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/i) });
    expect(verifySasToken(SPEC_VECTOR, "sb://localhost/eh10", KEYS, beforeExpiry)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not cover/) });
    expect(verifySasToken(SPEC_VECTOR, "sb://localhost/eh1", [{ name: KEYS[0]!.name, key: "other" }], beforeExpiry)).toMatchObject({ ok: false, reason: expect.stringMatching(/signature/) });
    expect(verifySasToken(SPEC_VECTOR, "sb://localhost/eh1", [{ name: "Listen", key: "SAS_KEY_VALUE" }], beforeExpiry)).toMatchObject({ ok: false, reason: expect.stringMatching(/not known/) });
  });

  it("matches resource URIs: a bare path names no namespace, and covers nothing", () => {
    const bare = sasToken("otherhub", KEYS[0]!.name, KEYS[0]!.key, 1_700_000_000);
    expect(verifySasToken(bare, "sb://localhost/events", KEYS, beforeExpiry)).toMatchObject({ ok: false, reason: expect.stringMatching(/'otherhub' is not a URI/) });
    expect(verifySasToken(bare, "sb://localhost/otherhub", KEYS, beforeExpiry).ok).toBe(false);
    const namespaceWide = sasToken("sb://localhost/", KEYS[0]!.name, KEYS[0]!.key, 1_700_000_000);
    expect(verifySasToken(namespaceWide, "sb://localhost/events/Partitions/1", KEYS, beforeExpiry).ok).toBe(true);
  });
});

describe("broker authorization through the SDK", () => {
  let strict: EventHubsEmulator;
  let open: EventHubsEmulator;

  beforeAll(async () => {
    strict = await startEmulator({ hubs: [{ name: HUB, partitionCount: 2 }, { name: "audit", partitionCount: 1 }] });
    open = await startEmulator({ checkSignatures: false });
  });
  afterAll(async () => {
    await strict?.stop();
    await open?.stop();
  });

  async function attempt(connectionString: string, hub = HUB): Promise<unknown> {
    const producer = new EventHubProducerClient(connectionString, hub, { retryOptions });
    try {
      await producer.sendBatch([{ body: "x" }]);
      return undefined;
    } catch (err) {
      return err;
    } finally {
      await producer.close();
    }
  }

  const withKey = (emulator: EventHubsEmulator, keyName: string, key: string) =>
    `Endpoint=sb://127.0.0.1:${emulator.port};SharedAccessKeyName=${keyName};SharedAccessKey=${key};UseDevelopmentEmulator=true`;
  const withSignature = (emulator: EventHubsEmulator, token: string) =>
    `Endpoint=sb://127.0.0.1:${emulator.port};SharedAccessSignature=${token};UseDevelopmentEmulator=true`;
  const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

  it("accepts the configured key", async () => {
    expect(await attempt(strict.connectionString())).toBeUndefined();
  });

  it("refuses a wrong key or an unknown key name with an authorization error", async () => {
    expect(errorCode(await attempt(withKey(strict, "RootManageSharedAccessKey", "wrong")))).toBe("UnauthorizedError");
    expect(errorCode(await attempt(withKey(strict, "NoSuchKey", "SAS_KEY_VALUE")))).toBe("UnauthorizedError");
  });

  it("accepts a SharedAccessSignature connection string (no SASL) whose resource covers the hub", async () => {
    const token = sasToken(`sb://127.0.0.1:${strict.port}/${HUB}`, "RootManageSharedAccessKey", "SAS_KEY_VALUE", inAnHour());
    expect(await attempt(withSignature(strict, token))).toBeUndefined();
  });

  it("refuses a signature for another hub, or one that has expired", async () => {
    const otherHub = sasToken(`sb://127.0.0.1:${strict.port}/audit`, "RootManageSharedAccessKey", "SAS_KEY_VALUE", inAnHour());
    expect(errorCode(await attempt(withSignature(strict, otherHub)))).toBe("UnauthorizedError");
    const expired = sasToken(`sb://127.0.0.1:${strict.port}/${HUB}`, "RootManageSharedAccessKey", "SAS_KEY_VALUE", Math.floor(Date.now() / 1000) - 10);
    expect(errorCode(await attempt(withSignature(strict, expired)))).toBe("UnauthorizedError");
    // A validly signed token whose resource is a bare path is no namespace-wide token.
    const bare = sasToken("otherhub", "RootManageSharedAccessKey", "SAS_KEY_VALUE", inAnHour());
    expect(errorCode(await attempt(withSignature(strict, bare)))).toBe("UnauthorizedError");
  });

  it("accepts any key when signature checks are turned off", async () => {
    expect(await attempt(withKey(open, "anyone", "anything"))).toBeUndefined();
  });
});
