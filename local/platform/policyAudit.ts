import { auditRolePolicies, describeAudit, type AuditOptions, type RoleAudit } from "./iam/auditRolePolicies";
import { recordScenarioCalls, type ScenarioOptions, type ScenarioRecording } from "./auditScenario";
import { ACCOUNT_ID, REGION } from "./platform";

/**
 * Least privilege, checked with the IAM simulator against what the stack really calls: the one module to import for
 * it (`npm run preflight`, test/policy-audit.test.ts).
 *
 * - `recordScenarioCalls()` runs an end-to-end scenario on the local platform and returns each role's calls and
 *   policies;
 * - `auditRolePolicies(policiesByRole, callsByRole)` says, per role, which calls its policies deny and which
 *   statements, actions and resources no call used;
 * - `auditScenario()` does both; `describeAudit` words the findings.
 */
export { auditRolePolicies, describeAudit, recordScenarioCalls };
export type { AuditOptions, RoleAudit, ScenarioOptions, ScenarioRecording };
export type { DeniedCall, PolicyInput, StatementRef } from "./iam/auditRolePolicies";
export type { RecordedCall } from "./iam/principals";
export type { NamedPolicy } from "./iam/policySimulator";
export type { RoleOwner, ScenarioStep } from "./auditScenario";

export interface ScenarioAudit {
  readonly recording: ScenarioRecording;
  /** By role name (see `recording.roleOwners` for whose role it is). */
  readonly audits: Record<string, RoleAudit>;
  /** One line per finding; empty when every role allows exactly what it called. */
  readonly findings: string[];
}

/** Records the scenario's calls on the local platform and audits every role's policies against them. */
export async function auditScenario(options: ScenarioOptions = {}): Promise<ScenarioAudit> {
  const recording = await recordScenarioCalls(options);
  const audits = await auditRolePolicies(recording.policiesByRole, recording.callsByRole, {
    accountId: ACCOUNT_ID,
    region: REGION,
    interchangeable: buildResourceGroup,
  });
  return { recording, audits, findings: describeAudit(audits) };
}

/**
 * The resources a function picks among by the deployment's builder: the CodeBuild projects and their log streams.
 * Running every builder through every role (inspector, cancel, logs, build events, reconciler) would make the scenario
 * ten times longer; one project exercised per statement proves its shape, and test/stack.test.ts asserts each list is
 * exactly the stack's projects.
 */
export function buildResourceGroup(resource: string): string | undefined {
  if (/^arn:aws:codebuild:[^:]*:\d+:project\/[^/]+$/.test(resource)) return "build projects";
  if (/^arn:aws:logs:[^:]*:\d+:log-group:[^:]*\/codebuild\/[^:]+:log-stream:\*$/.test(resource))
    return "build log streams";
  return undefined;
}
