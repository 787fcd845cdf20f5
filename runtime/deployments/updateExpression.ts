import type { Deployment } from "../deployment";
import { DEPLOYMENTS } from "../schema";

/**
 * Attributes callers may not set through `fields`: the key and the index keys never change once written, and the
 * store itself owns status, updatedAt and attempts (a caller-supplied value would fight the condition it writes).
 * An array, not a Set: Pulumi's closure serializer cannot carry a Set's contents into the Lambda.
 */
const OWNED_BY_STORE: readonly string[] = [
  DEPLOYMENTS.hashKey,
  DEPLOYMENTS.byUserIndex.hashKey,
  DEPLOYMENTS.byUserIndex.rangeKey,
  "status",
  "updatedAt",
  "attempts",
  "history",
  DEPLOYMENTS.activeIndex.hashKey,
  DEPLOYMENTS.activeIndex.rangeKey,
  DEPLOYMENTS.queuedIndex.hashKey,
];

export interface UpdateParts {
  readonly UpdateExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues: Record<string, unknown>;
}

/**
 * The SET (and optional ADD) clauses for an UpdateItem of a deployment. Names and values are always placeholders
 * (`#f0`/`:f0`), so no attribute name can collide with a DynamoDB reserved word. `undefined` fields are skipped, the
 * same way `removeUndefinedValues` skips them on a put: "not given" never erases a stored value.
 */
export function buildUpdate(
  set: Readonly<Record<string, unknown>>,
  fields: Partial<Deployment>,
  options: {
    incrementAttempts?: boolean;
    /** Attributes set to another attribute's stored value (`SET #a = #b`): name → source attribute. */
    copy?: Readonly<Record<string, string>>;
    /** Attributes removed. */
    remove?: readonly string[];
    /**
     * Lists to append to, created empty where missing (`SET #a = list_append(if_not_exists(#a, :empty), :items)`):
     * name → the items appended.
     */
    append?: Readonly<Record<string, readonly unknown[]>>;
  } = {},
): UpdateParts {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const assignments: string[] = [];
  const add = (name: string, value: unknown) => {
    const index = assignments.length;
    names[`#f${index}`] = name;
    values[`:f${index}`] = value;
    assignments.push(`#f${index} = :f${index}`);
  };
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (OWNED_BY_STORE.includes(name)) {
      throw new Error(`${name} cannot be set through fields: the store writes it (or it is a key and never changes)`);
    }
    add(name, value);
  }
  for (const [name, value] of Object.entries(set)) add(name, value);
  for (const [name, source] of Object.entries(options.copy ?? {})) {
    const index = assignments.length;
    names[`#f${index}`] = name;
    names[`#s${index}`] = source;
    assignments.push(`#f${index} = #s${index}`);
  }
  for (const [name, items] of Object.entries(options.append ?? {})) {
    const index = assignments.length;
    names[`#f${index}`] = name;
    values[`:f${index}`] = items;
    values[`:e${index}`] = [];
    assignments.push(`#f${index} = list_append(if_not_exists(#f${index}, :e${index}), :f${index})`);
  }

  let expression = `SET ${assignments.join(", ")}`;
  const removed = (options.remove ?? []).map((name, index) => {
    names[`#r${index}`] = name;
    return `#r${index}`;
  });
  if (removed.length > 0) expression += ` REMOVE ${removed.join(", ")}`;
  if (options.incrementAttempts) {
    // ADD on a missing number starts from 0, so the first claim records 1.
    names["#attempts"] = "attempts";
    values[":one"] = 1;
    expression += " ADD #attempts :one";
  }
  return { UpdateExpression: expression, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}
