import { createHash } from "node:crypto";
import { parsePolicyDocument, type PolicyDocument } from "./policyDocument";
import { evaluate, type NamedPolicy } from "./policySimulator";

export interface PrincipalRegistryOptions {
  /** The account in the assumed-role ARNs of denial messages. */
  readonly accountId: string;
  /** The region every local call is made in: the `aws:RequestedRegion` condition key. */
  readonly region: string;
  /** Told once per distinct message when the simulator cannot evaluate a request. Default console.warn. */
  readonly warn?: (message: string) => void;
}

/** One AWS call a role made (or tried), as IAM saw it: what `auditRolePolicies` checks against the role's policies. */
export interface RecordedCall {
  readonly action: string;
  readonly resource: string;
  /** Condition keys the caller supplied beyond the principal's own (`kms:ViaService`…). */
  readonly context?: Readonly<Record<string, string>>;
}

export interface RoleCall extends RecordedCall {
  readonly role: string;
  readonly allowed: boolean;
  /** How many times the same call was authorized. */
  readonly count: number;
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface Authorization {
  readonly allowed: boolean;
  /** Why: IAM's AccessDenied text when denied (AWS's exact wording), a short note when allowed. */
  readonly message: string;
}

export interface PrincipalRegistry {
  /**
   * Registers a role (idempotent; a new ARN replaces the old one) and returns its credentials. `sessionName` is the
   * session in its assumed-role ARN; Lambda uses the function's name. Default: the role's name.
   */
  registerRole(roleName: string, roleArn: string, options?: { readonly sessionName?: string }): Credentials;
  /** IAM's PutRolePolicy: adds or replaces the role's inline policy `policyName` (a document or its JSON). */
  putRolePolicy(roleName: string, policyName: string, document: PolicyDocument | string): void;
  /** IAM's DeleteRolePolicy. */
  deleteRolePolicy(roleName: string, policyName: string): void;
  /** The role's credentials: the same for the same account and role name on every run. */
  credentialsFor(roleName: string): Credentials;
  /** The role an access key id belongs to, or undefined for a key the registry did not issue. */
  roleForAccessKey(accessKeyId: string): string | undefined;
  /**
   * Whether the holder of `accessKeyId` may perform `action` on `resource`, as IAM decides (the IAM simulator). A key
   * the registry did not issue is the platform's own administrator and is allowed everything: the launcher signs
   * with such a key when it creates tables, seeds data and reads state, as the operator running `pulumi up` would.
   * Functions only ever receive keys from `credentialsFor`, so they never hold it. Every call of a role is recorded.
   */
  authorize(
    accessKeyId: string,
    action: string,
    resource: string,
    context?: Readonly<Record<string, string>>,
  ): Promise<Authorization>;
  /** A role's inline policies, by policy name (what `auditRolePolicies` takes). */
  policiesOf(roleName: string): NamedPolicy[];
  /** Every role registered, by name. */
  roleNames(): string[];
  /** Every distinct call a role made since the start (or `clearCalls`), in the order first made. */
  calls(): RoleCall[];
  clearCalls(): void;
}

interface Role {
  readonly name: string;
  arn: string;
  sessionName: string;
  readonly credentials: Credentials;
  readonly policies: Map<string, PolicyDocument>;
}

/** Access key ids Lambda hands a function are temporary (`ASIA…`), 20 characters, upper case. */
const ACCESS_KEY_PREFIX = "ASIA";
const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/**
 * Stable per (account, role): a function restarted by the launcher signs with the same key, and logs from two runs
 * can be compared. Signatures are not verified locally, so the secret only has to look like one.
 */
export function credentialsForRole(accountId: string, roleName: string): Credentials {
  const digest = createHash("sha256").update(`slipway-local-iam\0${accountId}\0${roleName}`).digest();
  const id = Array.from(digest.subarray(0, 16), (byte) => LETTERS[byte % LETTERS.length]).join("");
  const secret = createHash("sha256").update(`slipway-local-iam-secret\0${accountId}\0${roleName}`).digest("base64");
  return { accessKeyId: `${ACCESS_KEY_PREFIX}${id}`, secretAccessKey: secret.slice(0, 40) };
}

/** The registry of roles, their keys and inline policies that every local endpoint asks before it acts. */
export function createPrincipalRegistry(options: PrincipalRegistryOptions): PrincipalRegistry {
  const roles = new Map<string, Role>();
  const byAccessKey = new Map<string, Role>();
  const warned = new Set<string>();
  const recorded = new Map<string, { call: RoleCall; count: number }>();
  /** Decisions by role, then request: a role's entry is dropped whenever its policies change. */
  const decisions = new Map<string, Map<string, Promise<{ allowed: boolean; explicit: boolean }>>>();
  const warn = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    (options.warn ?? ((text: string) => console.warn(text)))(message);
  };

  const roleNamed = (roleName: string): Role => {
    const role = roles.get(roleName);
    if (!role) throw new Error(`No role named ${roleName} is registered: call registerRole("${roleName}", arn) first`);
    return role;
  };

  const decide = async (
    role: Role,
    action: string,
    resource: string,
    context: Readonly<Record<string, string>>,
  ): Promise<{ allowed: boolean; explicit: boolean }> => {
    const evaluation = await evaluate(
      [...role.policies].map(([name, document]) => ({ name, document })),
      {
        action,
        resource,
        principal: `arn:aws:sts::${options.accountId}:assumed-role/${role.name}/${role.sessionName}`,
        accountId: options.accountId,
        context: {
          "aws:PrincipalArn": role.arn,
          "aws:PrincipalAccount": options.accountId,
          "aws:RequestedRegion": options.region,
          ...context,
        },
      },
    );
    if (evaluation.invalid) warn(`IAM: ${action} on ${resource} cannot be evaluated (${evaluation.invalid}); denied`);
    return { allowed: evaluation.decision === "allow", explicit: evaluation.decision === "explicit-deny" };
  };

  const deniedMessage = (role: Role, action: string, resource: string, explicit: boolean) =>
    `User: arn:aws:sts::${options.accountId}:assumed-role/${role.name}/${role.sessionName} is not authorized to ` +
    `perform: ${action} on resource: ${resource} ` +
    (explicit
      ? "with an explicit deny in an identity-based policy"
      : `because no identity-based policy allows the ${action} action`);

  return {
    registerRole(roleName, roleArn, roleOptions = {}) {
      const existing = roles.get(roleName);
      if (existing) {
        decisions.delete(roleName);
        existing.arn = roleArn;
        existing.sessionName = roleOptions.sessionName ?? existing.sessionName;
        return existing.credentials;
      }
      const credentials = credentialsForRole(options.accountId, roleName);
      const holder = byAccessKey.get(credentials.accessKeyId);
      if (holder) throw new Error(`Roles ${holder.name} and ${roleName} hash to the same access key id`);
      const role: Role = {
        name: roleName,
        arn: roleArn,
        sessionName: roleOptions.sessionName ?? roleName,
        credentials,
        policies: new Map(),
      };
      roles.set(roleName, role);
      byAccessKey.set(credentials.accessKeyId, role);
      return credentials;
    },
    putRolePolicy(roleName, policyName, document) {
      roleNamed(roleName).policies.set(policyName, parsePolicyDocument(document));
      decisions.delete(roleName);
    },
    deleteRolePolicy(roleName, policyName) {
      roleNamed(roleName).policies.delete(policyName);
      decisions.delete(roleName);
    },
    policiesOf: (roleName) => [...roleNamed(roleName).policies].map(([name, document]) => ({ name, document })),
    roleNames: () => [...roles.keys()],
    calls: () => [...recorded.values()].map(({ call, count }) => ({ ...call, count })),
    clearCalls: () => recorded.clear(),
    credentialsFor: (roleName) => roleNamed(roleName).credentials,
    roleForAccessKey: (accessKeyId) => byAccessKey.get(accessKeyId)?.name,
    async authorize(accessKeyId, action, resource, context = {}) {
      const role = byAccessKey.get(accessKeyId);
      if (!role) return { allowed: true, message: `${accessKeyId} is the platform administrator (not a role's key)` };
      const key = JSON.stringify([action, resource, context]);
      let cached = decisions.get(role.name);
      if (!cached) decisions.set(role.name, (cached = new Map()));
      let decided = cached.get(key);
      if (!decided) {
        decided = decide(role, action, resource, context);
        cached.set(key, decided);
      }
      const { allowed, explicit } = await decided;
      const entry = recorded.get(`${role.name}\0${key}`);
      if (entry) entry.count += 1;
      else
        recorded.set(`${role.name}\0${key}`, {
          call: {
            role: role.name,
            action,
            resource,
            ...(Object.keys(context).length > 0 ? { context } : {}),
            allowed,
            count: 0,
          },
          count: 1,
        });
      if (allowed) return { allowed: true, message: `${role.name} may perform ${action} on ${resource}` };
      return { allowed: false, message: deniedMessage(role, action, resource, explicit) };
    },
  };
}
