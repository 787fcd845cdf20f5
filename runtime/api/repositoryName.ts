/** GitHub account names: alphanumerics and single hyphens, not at either end, at most 39 characters. */
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
/** GitHub repository names: letters, digits, `.`, `_`, `-`, at most 100 characters. */
const NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** Whether `value` is a GitHub `owner/name`, so it can go into an API path without escaping or surprises. */
export function isRepositoryName(value: string): boolean {
  const parts = value.split("/");
  if (parts.length !== 2) return false;
  const [owner = "", name = ""] = parts;
  return OWNER.test(owner) && NAME.test(name) && name !== "." && name !== "..";
}
