// A custom processor module (PROCESSOR=<path>): the first 30 events of each partition are immediate, later
// ones take 50 ms each, so a test can stop a worker mid-backlog however fast or loaded the machine is.
export async function process(input) {
  if (input.sequenceNumber >= 30) await new Promise((resolve) => setTimeout(resolve, 50));
  return { partitionId: input.partitionId, sequenceNumber: input.sequenceNumber };
}
