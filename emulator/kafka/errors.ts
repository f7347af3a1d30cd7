// The Kafka error codes the emulator answers with (the protocol's numbers; clients map them to their
// own error classes and decide from them whether to retry).
export const ERROR = {
  none: 0,
  offsetOutOfRange: 1,
  corruptMessage: 2,
  unknownTopicOrPartition: 3,
  messageTooLarge: 10,
  offsetMetadataTooLarge: 12,
  coordinatorNotAvailable: 15,
  invalidTopic: 17,
  illegalGeneration: 22,
  inconsistentGroupProtocol: 23,
  invalidGroupId: 24,
  unknownMemberId: 25,
  invalidSessionTimeout: 26,
  rebalanceInProgress: 27,
  topicAuthorizationFailed: 29,
  unsupportedSaslMechanism: 33,
  illegalSaslState: 34,
  unsupportedVersion: 35,
  invalidRequest: 42,
  unsupportedForMessageFormat: 43,
  policyViolation: 44,
  outOfOrderSequenceNumber: 45,
  invalidProducerEpoch: 47,
  transactionalIdAuthorizationFailed: 53,
  saslAuthenticationFailed: 58,
  groupIdNotFound: 69,
  invalidRecord: 87,
} as const;

export type ErrorCode = (typeof ERROR)[keyof typeof ERROR];
