// Which handler answers which API; the versions each serves are declared in api-keys.ts.
import { API } from "./api-keys";
import { fetch, listOffsets } from "./apis/fetch";
import { describeGroups, findCoordinator, heartbeat, joinGroup, leaveGroup, listGroups, syncGroup } from "./apis/groups";
import { apiVersions, saslAuthenticate, saslHandshake } from "./apis/handshake";
import { createTopics, metadata } from "./apis/metadata";
import { offsetCommit, offsetFetch } from "./apis/offsets";
import { initProducerId, produce } from "./apis/produce";
import type { KafkaHandler } from "./context";

export const HANDLERS: ReadonlyMap<number, KafkaHandler> = new Map<number, KafkaHandler>([
  [API.produce, produce],
  [API.fetch, fetch],
  [API.listOffsets, listOffsets],
  [API.metadata, metadata],
  [API.offsetCommit, offsetCommit],
  [API.offsetFetch, offsetFetch],
  [API.findCoordinator, findCoordinator],
  [API.joinGroup, joinGroup],
  [API.heartbeat, heartbeat],
  [API.leaveGroup, leaveGroup],
  [API.syncGroup, syncGroup],
  [API.describeGroups, describeGroups],
  [API.listGroups, listGroups],
  [API.saslHandshake, saslHandshake],
  [API.apiVersions, (request) => apiVersions(request)],
  [API.createTopics, createTopics],
  [API.initProducerId, initProducerId],
  [API.saslAuthenticate, saslAuthenticate],
]);
