// A custom processor module (PROCESSOR=<path>) that takes a little time per event, so tests can act while
// a worker is in the middle of a backlog.
export async function process(input) {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return { partitionId: input.partitionId, sequenceNumber: input.sequenceNumber };
}
