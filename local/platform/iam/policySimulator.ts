import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "./policyDocument";

/**
 * IAM's decision on one request, by `@cloud-copilot/iam-simulate` (a maintained simulator of AWS's policy evaluation
 * logic: every condition operator, NotAction/NotResource, ARN matching, and a check of each action and resource
 * type against AWS's service reference). This file only adapts Slipway's requests to it and reads its explanation.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */

export type { PolicyDocument, PolicyStatement } from "./policyDocument";

/** IAM's three outcomes: only "allow" lets the call through; an explicit deny beats any allow. */
export type Decision = "allow" | "explicit-deny" | "implicit-deny";

/** An identity policy with the name it is attached under (a RolePolicy's name). */
export interface NamedPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

export interface AccessRequest {
  /** `service:Operation`, e.g. `dynamodb:GetItem` (case-insensitive, as in IAM). */
  readonly action: string;
  /**
   * The resource's ARN, or `*` for actions without resource-level permissions (ListStreams). For an action that has
   * them, `*` stands for a resource the caller could not name (a forged shard iterator): only a policy granting the
   * action on every resource (`"Resource": "*"`) allows it.
   */
  readonly resource: string;
  /** The caller: an assumed-role session ARN `arn:aws:sts::<account>:assumed-role/<role>/<session>`. */
  readonly principal: string;
  /** The caller's account. The resource's account is its ARN's, or this one for ARNs without one (S3). */
  readonly accountId: string;
  /** Condition keys and their values (`aws:RequestedRegion` → `"us-east-1"`). */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

/** An Allow statement that let a request through, and which of its actions and resources matched it. */
export interface StatementUse {
  readonly policy: string;
  /** 0-based position of the statement in its policy's `Statement` list. */
  readonly index: number;
  readonly sid?: string;
  /** The statement's `Action` entries that matched (empty for NotAction statements). */
  readonly actions: readonly string[];
  /** The statement's `Resource` entries that matched (empty for NotResource statements). */
  readonly resources: readonly string[];
}

export interface Evaluation {
  readonly decision: Decision;
  /** The Allow statements that allowed the request (empty unless `decision` is "allow"). */
  readonly allowedBy: readonly StatementUse[];
  /** Why the simulator could not run: an unknown action, a resource of the wrong type for it, a malformed policy. */
  readonly invalid?: string;
}

/**
 * KMS keys decide with their key policy first. A key made without one gets AWS's default key policy, which gives
 * the account (and so IAM policies in it) access to the key:
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
 */
export function defaultKeyPolicy(accountId: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Enable IAM User Permissions",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
}

/** The account an ARN names (its fifth field), if it names one. */
const accountOf = (arn: string): string | undefined =>
  arn.startsWith("arn:") ? arn.split(":")[4] || undefined : undefined;

const listOf = <T>(value: T | readonly T[] | undefined): readonly T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value as T];

interface Explained {
  readonly policyId: string;
  readonly statement: { index(): number; sid(): string | undefined };
  readonly explain: {
    readonly actions?: { action: string; matches: boolean } | { action: string; matches: boolean }[];
    readonly resources?: { resource: string; matches: boolean } | { resource: string; matches: boolean }[];
  };
}

function useOf(analysis: Explained): StatementUse {
  const sid = analysis.statement.sid();
  return {
    policy: analysis.policyId,
    index: analysis.statement.index() - 1,
    ...(sid !== undefined ? { sid } : {}),
    actions: listOf(analysis.explain.actions)
      .filter((entry) => entry.matches)
      .map((entry) => entry.action),
    resources: listOf(analysis.explain.resources)
      .filter((entry) => entry.matches)
      .map((entry) => entry.resource),
  };
}

const DECISIONS: Readonly<Record<string, Decision>> = {
  Allowed: "allow",
  ExplicitlyDenied: "explicit-deny",
  ImplicitlyDenied: "implicit-deny",
};

/**
 * Evaluates `policies` (the caller's identity policies) for one request, as IAM does for a role with no permissions
 * boundary, session policy or SCP, in its own account. KMS requests also meet the key's default key policy.
 * A request the simulator refuses to evaluate (unknown action, resource of a type the action does not take) is an
 * implicit deny with `invalid` saying why: AWS would not have allowed it either.
 */
export async function evaluate(policies: readonly NamedPolicy[], request: AccessRequest): Promise<Evaluation> {
  const service = request.action.split(":")[0]?.toLowerCase();
  const simulation: Simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: accountOf(request.resource) ?? request.accountId },
      contextVariables: Object.fromEntries(
        Object.entries(request.context ?? {}).map(([key, value]) => [
          key,
          typeof value === "string" ? value : [...value],
        ]),
      ),
    },
    identityPolicies: policies.map((policy) => ({ name: policy.name, policy: policy.document })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(service === "kms" ? { resourcePolicy: defaultKeyPolicy(request.accountId) } : {}),
  };
  const result = await runSimulation(simulation, { simulationMode: "Strict" });
  if (result.resultType === "error") {
    return { decision: "implicit-deny", allowedBy: [], invalid: describeErrors(result.errors) };
  }
  if (result.resultType === "single") {
    const decision = DECISIONS[result.overallResult] ?? "implicit-deny";
    const allowing = decision === "allow" ? (result.result.analysis.identityAnalysis?.allowStatements ?? []) : [];
    return { decision, allowedBy: allowing.map((analysis) => useOf(analysis as unknown as Explained)) };
  }
  // A `*` request on an action with resource-level permissions: the simulator answers per resource pattern of the
  // policies; only the pattern `*` covers a resource nobody could name.
  if (result.overallResult === "ExplicitlyDenied") return { decision: "explicit-deny", allowedBy: [] };
  const everything = result.results.find(
    (entry) => entry.resourcePattern === "*" && entry.analysis.result === "Allowed",
  );
  if (!everything) return { decision: "implicit-deny", allowedBy: [] };
  const allowing = everything.analysis.identityAnalysis?.allowStatements ?? [];
  return { decision: "allow", allowedBy: allowing.map((analysis) => useOf(analysis as unknown as Explained)) };
}

/** The simulator's error codes, in words. */
const ERROR_MESSAGES: Readonly<Record<string, string>> = {
  "invalid.action": "no such IAM action",
  "must.use.wildcard": 'the action has no resource-level permissions: IAM authorizes it only on "*"',
  "invalid.identity.policy": "an identity policy is malformed",
};

function describeErrors(errors: { readonly message: string }): string {
  const details = Object.entries(errors)
    .filter(([key]) => key !== "message")
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`);
  return [ERROR_MESSAGES[errors.message] ?? errors.message, ...details].join("; ");
}
