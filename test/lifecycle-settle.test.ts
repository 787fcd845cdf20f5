import test from "ava";
import type { Deployment } from "../runtime/deployment";
import type { BuildObservation } from "../runtime/lifecycle/buildObservation";
import { phaseRank } from "../runtime/lifecycle/buildObservation";
import { settleDeployment, type SettleDependencies } from "../runtime/lifecycle/settleDeployment";
import type { DeploymentStatus } from "../runtime/schema";

const BUILD = "slipway-node:0b7d2c3e";

/**
 * A deployments table of one item with DeploymentStore's conditions (transition `from`/`whenBuild`, recordProgress
 * only while BUILDING this build and only forward), counting each call: what settleDeployment asks of DynamoDB.
 */
function world(initial: Partial<Deployment>) {
  let item = { id: "d-1", userId: "alice", repository: "acme/web", ...initial } as Deployment;
  const calls: string[] = [];
  const stopped: string[] = [];
  const deployments: SettleDependencies["deployments"] = {
    async get() {
      calls.push("get");
      return item;
    },
    async transition(_id, to, fields = {}, options = {}) {
      calls.push("transition");
      if (options.from && !options.from.includes(item.status)) return undefined;
      if (options.whenBuild && item.buildId !== undefined && item.buildId !== options.whenBuild) return undefined;
      item = { ...item, ...fields, status: to as DeploymentStatus };
      return item;
    },
    async recordProgress(_id, buildId, progress) {
      calls.push("recordProgress");
      const current = item as Deployment & { phaseRank?: number; phaseAt?: string };
      const later =
        current.phaseRank === undefined ||
        current.phaseRank < progress.phaseRank ||
        (current.phaseRank === progress.phaseRank && current.phaseAt! < progress.phaseAt);
      if (item.status !== "BUILDING" || item.buildId !== buildId || !later) return undefined;
      item = { ...item, ...progress };
      return item;
    },
  };
  const deps: SettleDependencies = {
    deployments,
    builds: { stop: async (id: string) => void stopped.push(id) },
    images: { imageOf: async () => undefined } as unknown as SettleDependencies["images"],
    onFinished: async () => undefined,
    logger: { info() {}, warn() {}, error() {} } as unknown as SettleDependencies["logger"],
  };
  return { deps, calls, stopped, item: () => item };
}

const phase = (currentPhase: string, at = "2026-11-30T10:00:00.000Z", buildId = BUILD): BuildObservation => ({
  buildId,
  projectName: "slipway-node",
  deploymentId: "d-1",
  buildStatus: "IN_PROGRESS",
  currentPhase,
  phases: [],
  observedAt: at,
});

test("a later phase of the build a BUILDING deployment records: one conditional write, no read", async (t) => {
  const w = world({ status: "BUILDING", buildId: BUILD });
  t.deepEqual(await settleDeployment(phase("PROVISIONING"), w.deps), { result: "progress", phase: "PROVISIONING" });
  t.deepEqual(w.calls, ["recordProgress"]);
  t.is((w.item() as { phaseRank?: number }).phaseRank, phaseRank("PROVISIONING"));
});

test("refused, the deployment is read and decided: an event that overtook the inspector adopts the build", async (t) => {
  const w = world({ status: "PROCESSING" });
  t.deepEqual(await settleDeployment(phase("QUEUED"), w.deps), { result: "progress", phase: "QUEUED" });
  t.deepEqual(w.calls, ["recordProgress", "get", "transition", "recordProgress"]);
  t.is(w.item().status, "BUILDING");
  t.is(w.item().buildId, BUILD);
});

test("refused, an older phase is ignored and a build of an ended deployment is stopped", async (t) => {
  const stale = world({ status: "BUILDING", buildId: BUILD, phaseRank: phaseRank("BUILD") } as Partial<Deployment>);
  t.is((await settleDeployment(phase("QUEUED"), stale.deps)).result, "ignored");
  t.is((stale.item() as { phase?: string }).phase, undefined, "nothing written");

  const orphan = world({ status: "CANCELED", buildId: undefined });
  t.deepEqual(await settleDeployment(phase("BUILD", undefined, "slipway-node:other"), orphan.deps), {
    result: "stopped-orphan",
  });
  t.deepEqual(orphan.stopped, ["slipway-node:other"]);
});
