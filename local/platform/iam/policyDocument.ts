/**
 * The shape of an IAM identity policy as the evaluator reads it, and the checks IAM's PutRolePolicy makes before it
 * accepts one. `components/policies.ts` builds the documents Slipway deploys; they fit this type as they are (and as
 * the JSON string a RolePolicy carries).
 */

/** A condition value as written in JSON: IAM compares strings, so `true` and `"true"` mean the same. */
export type ConditionValue = string | boolean | number;

/** `{ Operator: { "context:key": value | [values] } }` */
export type ConditionBlock = Readonly<
  Record<string, Readonly<Record<string, ConditionValue | readonly ConditionValue[]>>>
>;

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: ConditionBlock;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement | readonly PolicyStatement[];
}

/** IAM's MalformedPolicyDocument: the document would not have been accepted by PutRolePolicy. */
export class MalformedPolicyDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedPolicyDocumentError";
  }
}

export const statementsOf = (document: PolicyDocument): readonly PolicyStatement[] =>
  Array.isArray(document.Statement) ? document.Statement : [document.Statement as PolicyStatement];

/** One-or-many, as IAM lets every list element be written. */
export const listOf = <T>(value: T | readonly T[] | undefined): readonly T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value as T];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isStringList = (value: unknown) =>
  typeof value === "string" || (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string"));

/** `*`, or `service:pattern`. */
const VALID_ACTION = /^(\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+)$/;

const isConditionValue = (value: unknown) => ["string", "boolean", "number"].includes(typeof value);

/**
 * Parses (from the JSON a RolePolicy carries) and validates an identity policy as IAM would on PutRolePolicy: each
 * statement has an Effect of Allow or Deny, exactly one of Action/NotAction, exactly one of Resource/NotResource, no
 * Principal (that belongs to resource policies), and a Condition of `{ operator: { key: values } }`.
 * Unsupported condition operators are NOT rejected here (IAM knows them); the evaluator reports them.
 */
export function parsePolicyDocument(input: unknown): PolicyDocument {
  let document: unknown = input;
  if (typeof input === "string") {
    try {
      document = JSON.parse(input);
    } catch {
      throw new MalformedPolicyDocumentError("Syntax errors in policy: the document is not JSON.");
    }
  }
  if (!isObject(document)) throw new MalformedPolicyDocumentError("The policy must be a JSON object.");
  if (document.Version !== undefined && document.Version !== "2012-10-17" && document.Version !== "2008-10-17") {
    throw new MalformedPolicyDocumentError(`Unknown policy Version ${JSON.stringify(document.Version)}.`);
  }
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  if (document.Statement === undefined || statements.length === 0) {
    throw new MalformedPolicyDocumentError("The policy has no Statement.");
  }
  statements.forEach((statement: unknown, index) => {
    const where = `Statement ${index}`;
    if (!isObject(statement)) throw new MalformedPolicyDocumentError(`${where} must be an object.`);
    if (statement.Effect !== "Allow" && statement.Effect !== "Deny") {
      throw new MalformedPolicyDocumentError(`${where}: Effect must be "Allow" or "Deny".`);
    }
    if ("Principal" in statement || "NotPrincipal" in statement) {
      throw new MalformedPolicyDocumentError(`${where}: an identity policy must not specify a Principal.`);
    }
    for (const [element, negated] of [
      ["Action", "NotAction"],
      ["Resource", "NotResource"],
    ] as const) {
      const present = [element, negated].filter((name) => statement[name] !== undefined);
      if (present.length !== 1) {
        throw new MalformedPolicyDocumentError(`${where} must have exactly one of ${element} or ${negated}.`);
      }
      if (!isStringList(statement[present[0]!])) {
        throw new MalformedPolicyDocumentError(`${where}: ${present[0]} must be a string or a list of strings.`);
      }
      // IAM's own wording for an action without a service prefix.
      if (
        element === "Action" &&
        listOf(statement[present[0]!] as string[]).some((action) => !VALID_ACTION.test(action))
      ) {
        throw new MalformedPolicyDocumentError(
          `${where}: Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.`,
        );
      }
    }
    if (statement.Condition !== undefined) {
      const condition = statement.Condition;
      const valid =
        isObject(condition) &&
        Object.values(condition).every(
          (keys) =>
            isObject(keys) &&
            Object.values(keys).every((value) =>
              Array.isArray(value) ? value.every(isConditionValue) : isConditionValue(value),
            ),
        );
      if (!valid) {
        throw new MalformedPolicyDocumentError(`${where}: Condition must be { operator: { key: value or [values] } }.`);
      }
    }
  });
  return document as unknown as PolicyDocument;
}
