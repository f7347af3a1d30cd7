// The classic Kafka group coordinator (JoinGroup / SyncGroup / Heartbeat / LeaveGroup): generations,
// rebalances that wait for every known member to rejoin (up to the rebalance timeout), a leader that
// computes the assignment, and session timeouts that evict silent members. Kafka consumer groups on
// Event Hubs span the namespace and are separate from AMQP consumer groups; here they live in memory
// (committed offsets, which must survive restarts, are in the OffsetStore).
import { randomUUID } from "node:crypto";
import { ERROR } from "./errors";

export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable";

/** Kafka's broker defaults group.min/max.session.timeout.ms. */
export const SESSION_TIMEOUT_RANGE = { min: 6_000, max: 1_800_000 } as const;
const MAX_GROUP_ID_LENGTH = 256; // Event Hubs' limit on group.id

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
}

export interface JoinResult {
  error: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  /** Every member with its metadata for the leader; empty for the others. */
  members: Array<{ memberId: string; groupInstanceId: string | null; metadata: Buffer }>;
}

export interface SyncResult {
  error: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface MemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  metadata: Buffer;
  assignment: Buffer;
}

export interface GroupDescription {
  groupId: string;
  state: GroupState | "Dead";
  protocolType: string;
  protocol: string;
  members: MemberDescription[];
}

interface Member extends Pick<JoinRequest, "groupInstanceId" | "clientId" | "clientHost" | "sessionTimeoutMs" | "rebalanceTimeoutMs" | "protocols"> {
  memberId: string;
  assignment: Buffer;
  sessionTimer: NodeJS.Timeout | undefined;
  awaitingJoin: ((result: JoinResult) => void) | undefined;
  awaitingSync: ((result: SyncResult) => void) | undefined;
}

class Group {
  state: GroupState = "Empty";
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  rebalanceTimer: NodeJS.Timeout | undefined;

  constructor(readonly groupId: string) {}
}

const EMPTY = Buffer.alloc(0);

const joinError = (error: number, memberId = ""): JoinResult => ({ error, generationId: -1, protocolType: null, protocolName: null, leader: "", memberId, members: [] });
const syncError = (error: number): SyncResult => ({ error, protocolType: null, protocolName: null, assignment: EMPTY });

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();

  join(request: JoinRequest): Promise<JoinResult> {
    if (request.groupId === "" || request.groupId.length > MAX_GROUP_ID_LENGTH) return Promise.resolve(joinError(ERROR.invalidGroupId, request.memberId));
    if (request.sessionTimeoutMs < SESSION_TIMEOUT_RANGE.min || request.sessionTimeoutMs > SESSION_TIMEOUT_RANGE.max) {
      return Promise.resolve(joinError(ERROR.invalidSessionTimeout, request.memberId));
    }
    const group = this.groupFor(request.groupId);
    if (group.members.size > 0 && !this.speaksGroupProtocol(group, request)) return Promise.resolve(joinError(ERROR.inconsistentGroupProtocol, request.memberId));

    let member: Member | undefined;
    if (request.memberId === "") {
      member = this.addMember(group, request);
    } else {
      member = group.members.get(request.memberId);
      if (!member) return Promise.resolve(joinError(ERROR.unknownMemberId, request.memberId));
      const unchanged = sameProtocols(member.protocols, request.protocols);
      member.protocols = request.protocols;
      member.sessionTimeoutMs = request.sessionTimeoutMs;
      member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
      // A follower rejoining a stable group with the same subscription gets the current generation back.
      if (group.state === "Stable" && unchanged && member.memberId !== group.leaderId) {
        this.touch(group, member);
        return Promise.resolve(this.joinResult(group, member));
      }
    }
    group.protocolType ??= request.protocolType;
    const joined = member;
    return new Promise<JoinResult>((resolve) => {
      joined.awaitingJoin = resolve;
      clearTimeout(joined.sessionTimer); // a joining member is bounded by the rebalance timeout instead
      if (group.state !== "PreparingRebalance") this.prepareRebalance(group);
      this.maybeCompleteJoin(group);
    });
  }

  sync(groupId: string, generationId: number, memberId: string, assignments: Map<string, Buffer>): Promise<SyncResult> {
    const group = this.groups.get(groupId);
    const member = group?.members.get(memberId);
    if (!group || !member) return Promise.resolve(syncError(ERROR.unknownMemberId));
    if (generationId !== group.generationId) return Promise.resolve(syncError(ERROR.illegalGeneration));
    if (group.state === "PreparingRebalance") return Promise.resolve(syncError(ERROR.rebalanceInProgress));
    this.touch(group, member);
    if (group.state === "Stable") return Promise.resolve(this.syncResult(group, member));
    return new Promise<SyncResult>((resolve) => {
      member.awaitingSync = resolve;
      if (memberId !== group.leaderId) return;
      for (const each of group.members.values()) each.assignment = assignments.get(each.memberId) ?? EMPTY;
      group.state = "Stable";
      for (const each of group.members.values()) {
        const waiter = each.awaitingSync;
        each.awaitingSync = undefined;
        waiter?.(this.syncResult(group, each));
      }
    });
  }

  heartbeat(groupId: string, generationId: number, memberId: string): number {
    const group = this.groups.get(groupId);
    const member = group?.members.get(memberId);
    if (!group || !member) return ERROR.unknownMemberId;
    if (group.state === "PreparingRebalance") return ERROR.rebalanceInProgress;
    if (generationId !== group.generationId) return ERROR.illegalGeneration;
    this.touch(group, member);
    return ERROR.none;
  }

  /** Removes members that leave; returns the error per member id. */
  leave(groupId: string, memberIds: string[]): Map<string, number> {
    const group = this.groups.get(groupId);
    const errors = new Map<string, number>();
    for (const memberId of memberIds) {
      const member = group?.members.get(memberId);
      if (!group || !member) {
        errors.set(memberId, ERROR.unknownMemberId);
        continue;
      }
      this.removeMember(group, member);
      errors.set(memberId, ERROR.none);
    }
    return errors;
  }

  /**
   * Whether a member may commit offsets now: a standalone consumer (no member id, generation -1) may
   * commit to a group without members; a member must be current and its group not rebalancing.
   */
  commitError(groupId: string, generationId: number, memberId: string): number {
    const group = this.groups.get(groupId);
    if (generationId < 0 && memberId === "") return !group || group.members.size === 0 ? ERROR.none : ERROR.unknownMemberId;
    const member = group?.members.get(memberId);
    if (!group || !member) return ERROR.unknownMemberId;
    if (generationId !== group.generationId) return ERROR.illegalGeneration;
    if (group.state !== "Stable") return ERROR.rebalanceInProgress;
    this.touch(group, member);
    return ERROR.none;
  }

  describe(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    if (!group) return { groupId, state: "Dead", protocolType: "", protocol: "", members: [] };
    return {
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? "",
      protocol: group.state === "Stable" ? (group.protocolName ?? "") : "",
      members: [...group.members.values()].map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        metadata: member.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY,
        assignment: group.state === "Stable" ? member.assignment : EMPTY,
      })),
    };
  }

  list(): Array<{ groupId: string; protocolType: string; state: GroupState }> {
    return [...this.groups.values()].map((group) => ({ groupId: group.groupId, protocolType: group.protocolType ?? "", state: group.state }));
  }

  /** Stops every timer (the emulator is stopping; connections are closed separately). */
  close(): void {
    for (const group of this.groups.values()) {
      clearTimeout(group.rebalanceTimer);
      for (const member of group.members.values()) clearTimeout(member.sessionTimer);
    }
    this.groups.clear();
  }

  private groupFor(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new Group(groupId);
      this.groups.set(groupId, group);
    }
    return group;
  }

  private speaksGroupProtocol(group: Group, request: JoinRequest): boolean {
    if (group.protocolType !== null && group.protocolType !== request.protocolType) return false;
    const others = [...group.members.values()].filter((m) => m.memberId !== request.memberId);
    return request.protocols.some((p) => others.every((m) => m.protocols.some((q) => q.name === p.name)));
  }

  private addMember(group: Group, request: JoinRequest): Member {
    const { groupInstanceId, clientId, clientHost, sessionTimeoutMs, rebalanceTimeoutMs, protocols } = request;
    const member: Member = {
      memberId: `${clientId}-${randomUUID()}`,
      groupInstanceId,
      clientId,
      clientHost,
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      protocols,
      assignment: EMPTY,
      sessionTimer: undefined,
      awaitingJoin: undefined,
      awaitingSync: undefined,
    };
    group.members.set(member.memberId, member);
    return member;
  }

  /** Restarts the member's session timeout (a heartbeat, sync or commit shows it is alive). */
  private touch(group: Group, member: Member): void {
    clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(() => {
      if (group.members.get(member.memberId) === member && !member.awaitingJoin) this.removeMember(group, member);
    }, member.sessionTimeoutMs);
    member.sessionTimer.unref();
  }

  private prepareRebalance(group: Group): void {
    for (const member of group.members.values()) {
      const waiter = member.awaitingSync;
      member.awaitingSync = undefined;
      waiter?.(syncError(ERROR.rebalanceInProgress));
    }
    group.state = "PreparingRebalance";
    const timeout = Math.max(...[...group.members.values()].map((m) => m.rebalanceTimeoutMs), 0);
    clearTimeout(group.rebalanceTimer);
    group.rebalanceTimer = setTimeout(() => this.completeJoin(group), timeout);
    group.rebalanceTimer.unref();
  }

  private maybeCompleteJoin(group: Group): void {
    if (group.state !== "PreparingRebalance") return;
    if ([...group.members.values()].every((member) => member.awaitingJoin)) this.completeJoin(group);
  }

  /** Ends the join phase: members that did not rejoin are dropped, the generation advances, everyone hears. */
  private completeJoin(group: Group): void {
    clearTimeout(group.rebalanceTimer);
    group.rebalanceTimer = undefined;
    for (const member of [...group.members.values()]) {
      if (!member.awaitingJoin) this.dropMember(group, member);
    }
    group.generationId++;
    if (group.members.size === 0) {
      this.becomeEmpty(group);
      return;
    }
    const members = [...group.members.values()];
    group.protocolName = members[0]!.protocols.map((p) => p.name).find((name) => members.every((m) => m.protocols.some((q) => q.name === name))) ?? null;
    if (group.leaderId === null || !group.members.has(group.leaderId)) group.leaderId = members[0]!.memberId;
    group.state = "CompletingRebalance";
    for (const member of members) {
      const waiter = member.awaitingJoin!;
      member.awaitingJoin = undefined;
      this.touch(group, member);
      waiter(this.joinResult(group, member));
    }
  }

  private joinResult(group: Group, member: Member): JoinResult {
    const isLeader = member.memberId === group.leaderId;
    return {
      error: ERROR.none,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? "",
      memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY,
          }))
        : [],
    };
  }

  private syncResult(group: Group, member: Member): SyncResult {
    return { error: ERROR.none, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
  }

  /** Forgets a member without starting a rebalance (the caller decides). */
  private dropMember(group: Group, member: Member): void {
    clearTimeout(member.sessionTimer);
    group.members.delete(member.memberId);
    if (group.leaderId === member.memberId) group.leaderId = null;
    member.awaitingJoin?.(joinError(ERROR.unknownMemberId, member.memberId));
    member.awaitingSync?.(syncError(ERROR.unknownMemberId));
  }

  private removeMember(group: Group, member: Member): void {
    this.dropMember(group, member);
    if (group.state === "PreparingRebalance") this.maybeCompleteJoin(group);
    else if (group.members.size === 0) this.becomeEmpty(group);
    else this.prepareRebalance(group);
  }

  private becomeEmpty(group: Group): void {
    clearTimeout(group.rebalanceTimer);
    group.state = "Empty";
    group.protocolName = null;
    group.protocolType = null;
    group.leaderId = null;
  }
}

function sameProtocols(a: Protocol[], b: Protocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata));
}
