import { listOf, parsePolicyDocument, statementsOf, type PolicyDocument } from "./policyDocument";
import { evaluate, type NamedPolicy } from "./policySimulator";
import type { RecordedCall } from "./principals";

/** Where a statement sits: its policy's name, its 0-based position and its Sid. */
export interface StatementRef {
  readonly policy: string;
  readonly index: number;
  readonly sid?: string;
}

export interface DeniedCall extends RecordedCall {
  /** "implicit-deny" (no statement allows it), "explicit-deny", or why the simulator could not evaluate it. */
  readonly reason: string;
}

export interface RoleAudit {
  /** Calls the role made that its policies do not allow. */
  readonly denied: readonly DeniedCall[];
  /** Allow statements that allowed none of the calls. */
  readonly unusedStatements: readonly StatementRef[];
  /** `Action` entries of used statements that matched none of the calls they allowed. */
  readonly unusedActions: readonly (StatementRef & { readonly action: string })[];
  /** `Resource` entries of used statements that matched none of the calls they allowed. */
  readonly unusedResources: readonly (StatementRef & { readonly resource: string })[];
  /** True when nothing above was found: the role allows exactly what it calls. */
  readonly ok: boolean;
}

export interface AuditOptions {
  /** The roles' account: the principal's and that of resources whose ARN names none. Default "000000000000". */
  readonly accountId?: string;
  /** `aws:RequestedRegion` of every call. Default "us-east-1". */
  readonly region?: string;
  /**
   * Resources that stand for one another: the group a resource belongs to (e.g. "build projects"), or undefined.
   * A function that picks one at run time (the deployment's builder picks the project) is granted all of them; a
   * resource of a group counts as used when its statement allowed a call on another resource of the same group.
   * Default: none (every resource must be touched itself).
   */
  readonly interchangeable?: (resource: string) => string | undefined;
}

/** A role's policies as the audit takes them: named documents, or the JSON a RolePolicy carries. */
export type PolicyInput = NamedPolicy | { readonly name: string; readonly document: string };

/**
 * Least privilege, checked: for each role, every recorded call must be allowed by the role's policies (as the IAM
 * simulator decides), and every Allow statement, every action and every resource in it must have allowed at least
 * one recorded call. A role with policies and no calls has every statement unused; calls of a role with no policies
 * are all denied. Deny statements are not audited for use (they guard against what should never happen).
 */
export async function auditRolePolicies(
  policiesByRole: Readonly<Record<string, readonly PolicyInput[]>>,
  callsByRole: Readonly<Record<string, readonly RecordedCall[]>>,
  options: AuditOptions = {},
): Promise<Record<string, RoleAudit>> {
  const accountId = options.accountId ?? "000000000000";
  const region = options.region ?? "us-east-1";
  const roles = [...new Set([...Object.keys(policiesByRole), ...Object.keys(callsByRole)])].sort();
  const audits: Record<string, RoleAudit> = {};
  for (const role of roles) {
    const policies: NamedPolicy[] = (policiesByRole[role] ?? []).map((policy) => ({
      name: policy.name,
      document: parsePolicyDocument(policy.document),
    }));
    const usedStatements = new Set<string>();
    const usedActions = new Set<string>();
    const usedResources = new Set<string>();
    const denied: DeniedCall[] = [];
    for (const call of uniqueCalls(callsByRole[role] ?? [])) {
      const evaluation = await evaluate(policies, {
        action: call.action,
        resource: call.resource,
        principal: `arn:aws:sts::${accountId}:assumed-role/${role}/${role}`,
        accountId,
        context: {
          "aws:PrincipalArn": `arn:aws:iam::${accountId}:role/${role}`,
          "aws:PrincipalAccount": accountId,
          "aws:RequestedRegion": region,
          ...call.context,
        },
      });
      if (evaluation.decision !== "allow") {
        denied.push({ ...call, reason: evaluation.invalid ?? evaluation.decision });
        continue;
      }
      for (const use of evaluation.allowedBy) {
        const statement = `${use.policy}\0${use.index}`;
        usedStatements.add(statement);
        for (const action of use.actions) usedActions.add(`${statement}\0${action}`);
        for (const resource of use.resources) usedResources.add(`${statement}\0${resource}`);
      }
    }
    audits[role] = findUnused(
      policies,
      { usedStatements, usedActions, usedResources },
      denied,
      options.interchangeable,
    );
  }
  return audits;
}

function findUnused(
  policies: readonly NamedPolicy[],
  used: { usedStatements: Set<string>; usedActions: Set<string>; usedResources: Set<string> },
  denied: DeniedCall[],
  groupOf: (resource: string) => string | undefined = () => undefined,
): RoleAudit {
  const unusedStatements: StatementRef[] = [];
  const unusedActions: (StatementRef & { action: string })[] = [];
  const unusedResources: (StatementRef & { resource: string })[] = [];
  for (const policy of policies) {
    statementsOf(policy.document as PolicyDocument).forEach((statement, index) => {
      if (statement.Effect !== "Allow") return;
      const ref: StatementRef = { policy: policy.name, index, ...(statement.Sid ? { sid: statement.Sid } : {}) };
      const key = `${policy.name}\0${index}`;
      if (!used.usedStatements.has(key)) {
        unusedStatements.push(ref);
        return;
      }
      for (const action of listOf(statement.Action)) {
        if (!used.usedActions.has(`${key}\0${action}`)) unusedActions.push({ ...ref, action });
      }
      const resources = listOf(statement.Resource);
      const usedGroups = new Set(
        resources.filter((resource) => used.usedResources.has(`${key}\0${resource}`)).map(groupOf),
      );
      for (const resource of resources) {
        if (used.usedResources.has(`${key}\0${resource}`)) continue;
        const group = groupOf(resource);
        if (group === undefined || !usedGroups.has(group)) unusedResources.push({ ...ref, resource });
      }
    });
  }
  return {
    denied,
    unusedStatements,
    unusedActions,
    unusedResources,
    ok: denied.length === 0 && unusedStatements.length + unusedActions.length + unusedResources.length === 0,
  };
}

const uniqueCalls = (calls: readonly RecordedCall[]): RecordedCall[] => {
  const seen = new Map<string, RecordedCall>();
  for (const call of calls) {
    const key = JSON.stringify([call.action, call.resource, call.context ?? {}]);
    if (!seen.has(key)) seen.set(key, call);
  }
  return [...seen.values()];
};

/** One line per finding, for people: `role: denied dynamodb:GetItem on arn:… (implicit-deny)`. */
export function describeAudit(audits: Readonly<Record<string, RoleAudit>>): string[] {
  const name = (ref: StatementRef) => `${ref.policy}/${ref.sid ?? `#${ref.index}`}`;
  return Object.entries(audits).flatMap(([role, audit]) => [
    ...audit.denied.map((call) => `${role}: denied ${call.action} on ${call.resource} (${call.reason})`),
    ...audit.unusedStatements.map((ref) => `${role}: statement ${name(ref)} allowed no recorded call`),
    ...audit.unusedActions.map((ref) => `${role}: ${name(ref)} grants ${ref.action}, which no recorded call used`),
    ...audit.unusedResources.map(
      (ref) => `${role}: ${name(ref)} names ${ref.resource}, which no recorded call touched`,
    ),
  ]);
}
