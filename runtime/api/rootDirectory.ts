import { ValidationError } from "../errors";

const MAX_ROOT_DIRECTORY_LENGTH = 255;

/** What a root directory may not be, as data: each is a way out of the checkout or a path Slipway cannot use. */
const REFUSED: readonly { readonly test: (path: string) => boolean; readonly message: string }[] = [
  {
    test: (path) => path.length > MAX_ROOT_DIRECTORY_LENGTH,
    message: `rootDirectory must be at most ${MAX_ROOT_DIRECTORY_LENGTH} characters`,
  },
  {
    test: (path) => path.startsWith("/"),
    message: "rootDirectory must be relative to the repository root, e.g. apps/web (no leading /)",
  },
  { test: (path) => path.includes("\\"), message: "rootDirectory must use / between folders, e.g. apps/web (no \\)" },
  { test: (path) => path.includes(".."), message: "rootDirectory must stay inside the repository: remove `..`" },
  // eslint-disable-next-line no-control-regex
  { test: (path) => /[\x00-\x1f\x7f]/.test(path), message: "rootDirectory must not contain control characters" },
];

/**
 * The folder to deploy from, normalised so equal folders compare equal: `./apps/web/` and `apps//web` are `apps/web`,
 * `.` and `./` are "" (the root). Throws a ValidationError on `rootDirectory` naming the fix.
 */
export function normaliseRootDirectory(path: string): string {
  const refused = REFUSED.find(({ test }) => test(path));
  if (refused) throw new ValidationError("rootDirectory", refused.message);
  return path
    .split("/")
    .filter((part) => part !== "" && part !== ".")
    .join("/");
}
