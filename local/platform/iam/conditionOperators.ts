import { arnMatch, wildcardMatch } from "./wildcardMatch";

/** Compares the request context's value with one value from the policy. */
export type ConditionComparator = (contextValue: string, policyValue: string) => boolean;

/**
 * The condition operators the local platform evaluates, by IAM's name. Slipway's own policies use none in identity
 * policies; these are the ones worth having. Any other operator makes its statement not apply (see `evaluate`).
 * Each operator also exists with the `IfExists` suffix (true when the key is absent from the context).
 */
export const CONDITION_OPERATORS: Readonly<Record<string, ConditionComparator>> = {
  StringEquals: (contextValue, policyValue) => contextValue === policyValue,
  StringLike: (contextValue, policyValue) => wildcardMatch(policyValue, contextValue),
  // IAM documents ArnEquals and ArnLike as the same comparison: segment-wise, with wildcards.
  ArnEquals: (contextValue, policyValue) => arnMatch(policyValue, contextValue),
  ArnLike: (contextValue, policyValue) => arnMatch(policyValue, contextValue),
  Bool: (contextValue, policyValue) => contextValue.toLowerCase() === policyValue.toLowerCase(),
};
