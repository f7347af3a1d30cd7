// @azure/event-hubs 6.0.4 tops up a partition receiver's link credit on every receive cycle by its prefetch count
// minus the events it holds, without counting the credit still unused on the link (azure-sdk-for-js#39452; the
// fix, #39872, is not released). An idle partition so gains a prefetch's worth of credit every MAX_WAIT_MS, and a
// burst after an idle hour may be pushed into the worker thousands of prefetches deep, past its heap limit. Until
// the fix ships, the top-up is made up to what the SDK asks for instead of on top of it. The SDK's partition
// receiver is the only caller of addCredit in the worker (management and CBS links keep rhea's credit window).
import { Receiver } from "rhea-promise";

/** The SDK release whose receiver this corrects; a test fails when the installed one differs, to look again. */
export const CORRECTED_SDK_VERSION = "6.0.4";

const installed = Symbol.for("eventhubs-ai-workers.bounded-receiver-credit");

/** Bounds every partition receiver's unused credit by the SDK's prefetch count. Idempotent. */
export function boundReceiverCredit(): void {
  const prototype = Receiver.prototype as Receiver & { [installed]?: true };
  if (prototype[installed]) return;
  const addCredit = prototype.addCredit;
  prototype.addCredit = function topUpTo(this: Receiver, wanted: number): void {
    const missing = wanted - this.credit;
    if (missing > 0) addCredit.call(this, missing);
  };
  prototype[installed] = true;
}
