/** Where processing results go. Every record carries (partitionId, sequenceNumber) so readers can de-duplicate. */
export interface ResultRecord {
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  /** ISO 8601. */
  enqueuedTimeUtc: string;
  messageId?: string;
  processor: string;
  /** ISO 8601. */
  processedAt: string;
  result: unknown;
}

export interface Sink {
  /** Durably writes the records (in the given order) before resolving. */
  write(records: ResultRecord[]): Promise<void>;
  close(): Promise<void>;
}
