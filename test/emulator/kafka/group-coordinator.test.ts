// The group coordinator's state machine on a fake clock: generations, a rebalance that waits for members to
// rejoin, the leader's assignment handed out at sync, session timeouts evicting a silent member, and the
// checks that keep a stale member from heartbeating or committing.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ERROR } from "../../../emulator/kafka/errors";
import { GroupCoordinator, type JoinRequest } from "../../../emulator/kafka/group-coordinator";

const join = (memberId: string, overrides: Partial<JoinRequest> = {}): JoinRequest => ({
  groupId: "g",
  memberId,
  groupInstanceId: null,
  clientId: "client",
  clientHost: "/127.0.0.1",
  sessionTimeoutMs: 6_000,
  rebalanceTimeoutMs: 10_000,
  protocolType: "consumer",
  protocols: [{ name: "range", metadata: Buffer.from("subscription") }],
  ...overrides,
});

describe("GroupCoordinator", () => {
  let coordinator: GroupCoordinator;
  beforeEach(() => {
    vi.useFakeTimers();
    coordinator = new GroupCoordinator();
  });
  afterEach(() => {
    coordinator.close();
    vi.useRealTimers();
  });

  it("rebalances when a second member joins, hands out the leader's assignment, and evicts a member that stops heartbeating", async () => {
    const first = await coordinator.join(join(""));
    expect(first).toMatchObject({ error: ERROR.none, generationId: 1, leader: first.memberId, protocolName: "range" });
    expect(first.members.map((m) => m.memberId)).toEqual([first.memberId]);
    expect(await coordinator.sync("g", 1, first.memberId, new Map([[first.memberId, Buffer.from("all")]]))).toMatchObject({ error: ERROR.none, assignment: Buffer.from("all") });

    // A newcomer's join waits until the current member rejoins; the member learns of it from its heartbeat.
    let secondDone = false;
    const secondJoin = coordinator.join(join("", { clientId: "other" })).then((r) => ((secondDone = true), r));
    await Promise.resolve();
    expect(secondDone).toBe(false);
    expect(coordinator.heartbeat("g", 1, first.memberId)).toBe(ERROR.rebalanceInProgress);
    const [rejoined, second] = await Promise.all([coordinator.join(join(first.memberId)), secondJoin]);
    expect([rejoined.generationId, second.generationId]).toEqual([2, 2]);
    expect(rejoined.leader).toBe(first.memberId); // the leader stays
    expect(rejoined.members).toHaveLength(2);
    expect(second.members).toEqual([]); // only the leader sees the members

    const followerSync = coordinator.sync("g", 2, second.memberId, new Map());
    const leaderSync = coordinator.sync("g", 2, first.memberId, new Map([[first.memberId, Buffer.from("a")], [second.memberId, Buffer.from("b")]]));
    expect((await followerSync).assignment).toEqual(Buffer.from("b"));
    expect((await leaderSync).assignment).toEqual(Buffer.from("a"));
    expect(coordinator.describe("g")).toMatchObject({ state: "Stable", protocol: "range", members: [{ memberId: first.memberId }, { memberId: second.memberId }] });

    // The stale generation is refused; the second member goes silent and is evicted after its session timeout.
    expect(coordinator.heartbeat("g", 1, first.memberId)).toBe(ERROR.illegalGeneration);
    expect(coordinator.commitError("g", 1, first.memberId)).toBe(ERROR.illegalGeneration);
    vi.advanceTimersByTime(4_000);
    expect(coordinator.heartbeat("g", 2, first.memberId)).toBe(ERROR.none);
    vi.advanceTimersByTime(2_500);
    expect(coordinator.heartbeat("g", 2, second.memberId)).toBe(ERROR.unknownMemberId);
    expect(coordinator.heartbeat("g", 2, first.memberId)).toBe(ERROR.rebalanceInProgress);
    const alone = await coordinator.join(join(first.memberId));
    expect(alone).toMatchObject({ generationId: 3, members: [{ memberId: first.memberId }] });
  });

  it("drops a member that does not rejoin within the rebalance timeout, and empties on leave", async () => {
    const a = await coordinator.join(join(""));
    await coordinator.sync("g", 1, a.memberId, new Map());
    const b = coordinator.join(join("", { clientId: "b" }));
    vi.advanceTimersByTime(10_000); // a never rejoins
    const joined = await b;
    expect(joined).toMatchObject({ error: ERROR.none, generationId: 2, leader: joined.memberId });
    expect(coordinator.heartbeat("g", 1, a.memberId)).toBe(ERROR.unknownMemberId);
    expect(coordinator.leave("g", [joined.memberId, "nobody"])).toEqual(new Map([[joined.memberId, ERROR.none], ["nobody", ERROR.unknownMemberId]]));
    expect(coordinator.describe("g").state).toBe("Empty");
    expect(coordinator.commitError("g", -1, "")).toBe(ERROR.none); // a standalone consumer may commit to an empty group
  });

  it("refuses bad session timeouts, empty group ids and members without a common protocol", async () => {
    expect((await coordinator.join(join("", { sessionTimeoutMs: 1_000 }))).error).toBe(ERROR.invalidSessionTimeout);
    expect((await coordinator.join(join("", { groupId: "" }))).error).toBe(ERROR.invalidGroupId);
    await coordinator.join(join(""));
    expect((await coordinator.join(join("", { protocols: [{ name: "roundrobin", metadata: Buffer.alloc(0) }] }))).error).toBe(ERROR.inconsistentGroupProtocol);
  });
});
