import type { APIGatewayProxyEventHeaders } from "aws-lambda";
import { ValidationError } from "../errors";
import { header } from "../http";
import { brokenRefRule, isCommitSha } from "./gitRefName";
import { isRepositoryName } from "./repositoryName";
import { normaliseRootDirectory } from "./rootDirectory";

/** A POST /deployments body after validation: only known fields, each normalised. */
export interface DeploymentRequest {
  readonly repository: string;
  readonly ref?: string;
  readonly rootDirectory?: string;
}

/** Far above any real request (three short strings); keeps a hostile body from costing parse time or log space. */
export const MAX_BODY_BYTES = 4 * 1024;

const EXAMPLE_BODY = '{"repository": "acme/shop", "ref": "main"}';

/**
 * The body's fields, in the order they are checked, with what makes each valid. Each `normalise` returns the value
 * to store or throws a ValidationError that names the field and the fix.
 */
const FIELD_RULES: readonly {
  readonly field: keyof DeploymentRequest;
  readonly required: boolean;
  readonly expected: string;
  readonly normalise: (value: string) => string;
}[] = [
  {
    field: "repository",
    required: true,
    expected: 'a GitHub repository as "owner/name", e.g. "acme/shop"',
    normalise: (value) => {
      if (!isRepositoryName(value)) {
        throw new ValidationError(
          "repository",
          "repository must look like owner/name, e.g. acme/shop (owner: letters, digits and single hyphens, up to 39; " +
            "name: letters, digits, ., _ and -, up to 100)",
        );
      }
      return value;
    },
  },
  {
    field: "ref",
    required: false,
    expected: 'a branch, tag or commit SHA, e.g. "main"',
    normalise: (value) => {
      const broken = isCommitSha(value) ? undefined : brokenRefRule(value);
      if (broken !== undefined) {
        throw new ValidationError(
          "ref",
          `ref must be a branch, tag or 40-character commit SHA, e.g. main or v1.2.0; this one ${broken}`,
        );
      }
      return value;
    },
  },
  {
    field: "rootDirectory",
    required: false,
    expected: 'a folder relative to the repository root, e.g. "apps/web"',
    normalise: normaliseRootDirectory,
  },
];

/** An array, not a Set: Pulumi's closure serializer cannot carry a Set's contents into the Lambda. */
const KNOWN_FIELDS: readonly string[] = FIELD_RULES.map(({ field }) => field);

/**
 * Checks a POST /deployments request and returns it normalised, or throws a ValidationError naming the first thing to
 * fix: the body (size, encoding, JSON, shape), an unknown field, or a field's type or value. Pure: no I/O, so nothing
 * is written for a request that fails here.
 */
export function validateDeploymentRequest(
  body: string | undefined,
  isBase64Encoded: boolean,
  headers: APIGatewayProxyEventHeaders | undefined,
): DeploymentRequest {
  const contentType = header(headers, "content-type");
  if (contentType !== undefined && !isJsonMediaType(contentType)) {
    throw new ValidationError("content-type", "send the body as JSON with the header content-type: application/json");
  }
  const text = decodeBody(body, isBase64Encoded);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError("body", `the body is not valid JSON; send an object like ${EXAMPLE_BODY}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError("body", `the body must be a JSON object like ${EXAMPLE_BODY}`);
  }
  const input = parsed as Record<string, unknown>;
  const unknown = Object.keys(input).find((name) => !KNOWN_FIELDS.includes(name));
  if (unknown !== undefined) {
    throw new ValidationError(
      unknown,
      `unknown field ${JSON.stringify(unknown)}; the fields are ${KNOWN_FIELDS.join(", ")}`,
    );
  }

  const request: Record<string, string> = {};
  for (const rule of FIELD_RULES) {
    const value = input[rule.field];
    if (value === undefined) {
      if (rule.required) throw new ValidationError(rule.field, `${rule.field} is required: ${rule.expected}`);
      continue;
    }
    if (typeof value !== "string") {
      throw new ValidationError(rule.field, `${rule.field} must be a string: ${rule.expected}`);
    }
    const broken = brokenTextRule(value);
    if (broken !== undefined) throw new ValidationError(rule.field, `${rule.field} ${broken}`);
    request[rule.field] = rule.normalise(value);
  }
  return request as unknown as DeploymentRequest;
}

/**
 * Text that JSON can carry but nothing downstream can use, as data. A lone surrogate (`"a\\ud800"`) is valid JSON
 * and a valid JS string, but not Unicode: encodeURIComponent throws on it, so the inspector failed on every retry.
 * U+FFFD is what a decoder leaves where a body's bytes were not UTF-8 (API Gateway hands JSON bodies over as text):
 * storing it would store a mangled name with a 202.
 */
const BROKEN_TEXT: readonly { readonly rule: string; readonly test: (value: string) => boolean }[] = [
  {
    rule: "contains a lone UTF-16 surrogate (an unpaired \\uD800–\\uDFFF escape); send valid Unicode text",
    test: (value) => /\p{Cs}/u.test(value),
  },
  {
    rule: "contains U+FFFD, the replacement character, which is what bytes that are not UTF-8 decode to; send the body encoded as UTF-8",
    test: (value) => value.includes("\uFFFD"),
  },
];

/** How `value` breaks BROKEN_TEXT, or undefined if it is well-formed text. */
function brokenTextRule(value: string): string | undefined {
  return BROKEN_TEXT.find(({ test }) => test(value))?.rule;
}

/** The body as text, refusing what is too large to be a deployment request before decoding or parsing it. */
function decodeBody(body: string | undefined, isBase64Encoded: boolean): string {
  if (body === undefined || body === "") {
    throw new ValidationError("body", `the body is empty; send a JSON object like ${EXAMPLE_BODY}`);
  }
  const tooLarge = () =>
    new ValidationError(
      "body",
      `the body is larger than ${MAX_BODY_BYTES} bytes; send only repository, ref and rootDirectory`,
    );
  // base64 is 4 characters per 3 bytes: a longer string cannot decode to an acceptable size.
  if (body.length > (isBase64Encoded ? Math.ceil(MAX_BODY_BYTES / 3) * 4 : MAX_BODY_BYTES)) throw tooLarge();
  const bytes = isBase64Encoded ? Buffer.from(body, "base64") : Buffer.from(body, "utf8");
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
  const text = bytes.toString("utf8");
  // A byte sequence that is not UTF-8 decodes to U+FFFD; refuse it rather than store a mangled name.
  if (isBase64Encoded && Buffer.from(text, "utf8").compare(bytes) !== 0) {
    throw new ValidationError("body", "the body is not UTF-8 text; send JSON encoded as UTF-8");
  }
  return text;
}

/** `application/json`, optionally with parameters (`; charset=utf-8`), or any `+json` type. */
function isJsonMediaType(contentType: string): boolean {
  const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  return mediaType === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}
