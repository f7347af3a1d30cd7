import { describe, expect, it } from "vitest";
import { errorFields } from "../../../worker/telemetry/logger";

describe("errorFields (what logs and messages say about an error)", () => {
  it("unwraps the SDK's AggregateError, whose own message is empty, into its causes", () => {
    const attempt = () => Object.assign(new Error("InvalidSignature: The token has an invalid signature."), { name: "MessagingError", code: "UnauthorizedError" });
    const fields = errorFields(new AggregateError([attempt(), attempt(), attempt(), attempt()]));
    expect(fields).toEqual({ name: "MessagingError", code: "UnauthorizedError", message: "InvalidSignature: The token has an invalid signature. (4 attempts)" });
  });

  it("is never empty, and includes a cause", () => {
    expect(errorFields(new Error("")).message).toBe("Error without a message");
    expect(errorFields(Object.assign(new Error(""), { code: "ECONNREFUSED" })).message).toBe("ECONNREFUSED");
    expect(errorFields(new Error("", { cause: new RangeError("too deep") })).message).toBe("RangeError: too deep");
    expect(errorFields("").message).toBe("(empty error value)");
  });

  it("masks keys an error message might quote", () => {
    const message = errorFields(new Error("bad: Endpoint=sb://x/;SharedAccessKeyName=send;SharedAccessKey=c2VjcmV0; AccountKey=a2V5== sig=abc&se=1")).message;
    expect(message).toBe("bad: Endpoint=sb://x/;SharedAccessKeyName=send;SharedAccessKey=***; AccountKey=*** sig=***&se=1");
  });
});
