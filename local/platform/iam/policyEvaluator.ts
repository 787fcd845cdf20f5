import { CONDITION_OPERATORS } from "./conditionOperators";
import { listOf, statementsOf, type ConditionBlock, type PolicyDocument, type PolicyStatement } from "./policyDocument";
import { arnMatch, wildcardMatch } from "./wildcardMatch";

export type { PolicyDocument, PolicyStatement } from "./policyDocument";

/** IAM's three outcomes: only "allow" lets the call through; an explicit deny beats any allow. */
export type Decision = "allow" | "explicit-deny" | "implicit-deny";

export interface AccessRequest {
  /** `service:Operation`, e.g. `dynamodb:GetItem` (service and operation are case-insensitive). */
  readonly action: string;
  /** The resource's ARN, or `*` for actions without one (ListTables). Case-sensitive. */
  readonly resource: string;
  /** Condition keys and their values (`aws:SecureTransport` → `"true"`); keys are case-insensitive. */
  readonly context?: Readonly<Record<string, string>>;
}

export interface EvaluateOptions {
  /** Told when a statement is skipped because the evaluator cannot judge it. Default `console.warn`. */
  readonly warn?: (message: string) => void;
}

type Applies = "applies" | "does-not-apply";

/**
 * Evaluates identity policies the way IAM does for a principal with no boundaries, session policies or SCPs:
 * a matching Deny statement wins, else a matching Allow allows, else the request is implicitly denied.
 * A statement matches when its Action (or NotAction), its Resource (or NotResource) and every Condition hold.
 * A Condition operator outside `CONDITION_OPERATORS` makes the statement not apply, with a warning: deciding
 * it by guess would be worse than being told.
 */
export function evaluate(
  policies: readonly PolicyDocument[],
  request: AccessRequest,
  options: EvaluateOptions = {},
): Decision {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const context = lowercaseKeys(request.context ?? {});
  let allowed = false;
  for (const policy of policies) {
    for (const statement of statementsOf(policy)) {
      if (statementApplies(statement, request, context, warn) !== "applies") continue;
      if (statement.Effect === "Deny") return "explicit-deny";
      if (statement.Effect === "Allow") allowed = true;
    }
  }
  return allowed ? "allow" : "implicit-deny";
}

function statementApplies(
  statement: PolicyStatement,
  request: AccessRequest,
  context: Readonly<Record<string, string>>,
  warn: (message: string) => void,
): Applies {
  if (statement.Effect !== "Allow" && statement.Effect !== "Deny") {
    warn(`IAM: statement ${describe(statement)} has Effect ${JSON.stringify(statement.Effect)}; it is ignored`);
    return "does-not-apply";
  }
  // Actions are case-insensitive in IAM (`DynamoDB:getitem` is `dynamodb:GetItem`).
  const action = request.action.toLowerCase();
  const actionMatches = (pattern: string) => wildcardMatch(pattern.toLowerCase(), action);
  const resourceMatches = (pattern: string) => arnMatch(pattern, request.resource);

  const actionHit =
    statement.Action !== undefined
      ? listOf(statement.Action).some(actionMatches)
      : statement.NotAction !== undefined && !listOf(statement.NotAction).some(actionMatches);
  if (!actionHit) return "does-not-apply";
  const resourceHit =
    statement.Resource !== undefined
      ? listOf(statement.Resource).some(resourceMatches)
      : statement.NotResource !== undefined && !listOf(statement.NotResource).some(resourceMatches);
  if (!resourceHit) return "does-not-apply";
  if (statement.Condition === undefined) return "applies";

  const verdict = conditionsHold(statement.Condition, context);
  if (verdict.unsupported.length > 0) {
    warn(
      `IAM: statement ${describe(statement)} uses condition operator(s) ${verdict.unsupported.join(", ")} that ` +
        `the local platform does not evaluate; the statement is treated as not applying`,
    );
    return "does-not-apply";
  }
  return verdict.holds ? "applies" : "does-not-apply";
}

/** Every operator must hold; within one, every key; within a key, any of its values. */
function conditionsHold(
  condition: ConditionBlock,
  context: Readonly<Record<string, string>>,
): { holds: boolean; unsupported: string[] } {
  const unsupported: string[] = [];
  let holds = true;
  for (const [operatorName, keys] of Object.entries(condition)) {
    const ifExists = operatorName.endsWith("IfExists");
    const comparator = CONDITION_OPERATORS[ifExists ? operatorName.slice(0, -"IfExists".length) : operatorName];
    if (!comparator) {
      unsupported.push(operatorName);
      continue;
    }
    for (const [key, values] of Object.entries(keys)) {
      const actual = context[key.toLowerCase()];
      if (actual === undefined) {
        holds &&= ifExists;
        continue;
      }
      holds &&= listOf(values).some((value) => comparator(actual, String(value)));
    }
  }
  return { holds, unsupported };
}

const lowercaseKeys = (context: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(context).map(([key, value]) => [key.toLowerCase(), value]));

const describe = (statement: PolicyStatement) => (statement.Sid ? `"${statement.Sid}"` : "(no Sid)");
