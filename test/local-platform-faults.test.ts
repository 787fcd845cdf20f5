import anyTest, { type TestFn } from "ava";
import {
  graphqlRateLimited,
  graphqlResourceLimits,
  graphqlTimeout,
  secondaryRateLimit,
  type Fault,
} from "../local/emulators/github";
import { readZip } from "./helpers/zipEntries";
import type { Platform } from "../local/platform/platform";
import { api, bootPlatform, repositoriesFolder, settled } from "./helpers/localPlatform";

/**
 * GitHub's faults against the whole local platform (the stack's own inspector, in its Lambda container, on the
 * stream mapping with its retries and failure queue). Every deployment must end BUILDING — from a whole archive of
 * its own commit, one build — or FAILED with a reason a person can act on; none stays PENDING or PROCESSING.
 *
 * GitHub's waits are scaled by 0.01 (SLIPWAY_GITHUB_WAIT_SCALE): a 60-second secondary limit takes 0.6 s here, with
 * the same decisions as in AWS.
 */
const test = anyTest as TestFn<{ platform: Platform & { cleanUp(): Promise<void> } }>;

test.before(async (t) => {
  t.context.platform = await bootPlatform(repositoriesFolder("alice"), {
    githubWaitScale: 0.01,
    // Ten deployments by one user, quickly: the per-user limit has its own tests (test/security).
    stackConfig: { "slipway:deploymentsPerUserPerMinute": "1000" },
  });
});
test.after.always(async (t) => {
  await t.context.platform?.cleanUp();
});
test.afterEach.always((t) => {
  t.context.platform.github!.reset();
  t.context.platform.github!.configure({ maxTreeEntries: 100_000 });
});

const COMMITS = "GET /repos/{owner}/{repo}/commits/{ref}";
const GRAPHQL = "POST /graphql";
const CODELOAD = "GET /{owner}/{repo}/legacy.zip/{sha}";

interface Case {
  readonly name: string;
  readonly faults: () => Fault[];
  readonly truncateTreesAt?: number;
  readonly expect: { status: "BUILDING" } | { status: "FAILED"; code: string; message: RegExp };
}

const CASES: readonly Case[] = [
  {
    name: "a secondary limit with retry-after: 60",
    faults: () => [{ operation: COMMITS, ...secondaryRateLimit({ retryAfterSeconds: 60 }), times: 1 }],
    expect: { status: "BUILDING" },
  },
  {
    name: "a secondary limit without retry-after (on GraphQL)",
    faults: () => [{ operation: GRAPHQL, ...secondaryRateLimit({ retryAfterSeconds: null }), times: 1 }],
    expect: { status: "BUILDING" },
  },
  {
    name: "a secondary limit that never lifts",
    faults: () => [{ operation: COMMITS, ...secondaryRateLimit({ retryAfterSeconds: null }), times: 1_000 }],
    expect: { status: "FAILED", code: "GITHUB_RATE_LIMITED", message: /Deploy again after that time/ },
  },
  {
    name: "a GraphQL timeout, twice",
    faults: () => [{ operation: GRAPHQL, ...graphqlTimeout(), times: 2 }],
    expect: { status: "BUILDING" },
  },
  {
    name: "GraphQL's resource limits",
    faults: () => [{ operation: GRAPHQL, ...graphqlResourceLimits(), times: 1 }],
    expect: { status: "BUILDING" },
  },
  {
    name: "GraphQL's rate limit (RATE_LIMIT, 403)",
    faults: () => [{ operation: GRAPHQL, ...graphqlRateLimited("RATE_LIMIT", { resetInSeconds: 60 }), times: 1 }],
    expect: { status: "BUILDING" },
  },
  {
    name: "a download that breaks off once",
    faults: () => [{ operation: CODELOAD, cutBody: { afterBytes: 512, announce: "none" }, times: 1 }],
    expect: { status: "BUILDING" },
  },
  {
    name: "a download that always arrives cut short",
    faults: () => [{ operation: CODELOAD, cutBody: { afterBytes: 512, announce: "cut" }, times: 1_000 }],
    expect: { status: "FAILED", code: "INSPECTION_ABANDONED", message: /source archive .* was incomplete/ },
  },
  {
    name: "a truncated tree",
    faults: () => [],
    truncateTreesAt: 1,
    expect: { status: "FAILED", code: "REPOSITORY_TOO_LARGE_TO_SEARCH", message: /Send rootDirectory/ },
  },
];

for (const fault of CASES) {
  test.serial(
    `${fault.name}: ${fault.expect.status}${"code" in fault.expect ? ` ${fault.expect.code}` : ""}`,
    async (t) => {
      const { platform } = t.context;
      const github = platform.github!;
      for (const each of fault.faults()) github.inject(each);
      if (fault.truncateTreesAt !== undefined) github.configure({ maxTreeEntries: fault.truncateTreesAt });
      const token = await platform.token("alice");
      const { body } = await api(platform, "POST", "/deployments", { token, body: { repository: "alice/notes-api" } });

      const deployment = await settled(platform, token, body.id, 110_000);

      t.is(deployment.status, fault.expect.status, JSON.stringify(deployment.statusReason));
      const builds = platform.aws
        .builds()
        .filter((build) => build.environmentVariablesOverride?.some((variable) => variable.value === body.id));
      if (fault.expect.status === "FAILED") {
        t.is(deployment.statusReason.code, fault.expect.code);
        t.regex(deployment.statusReason.message, fault.expect.message);
        t.deepEqual(builds, [], "no build");
        return;
      }
      // Built once, from a whole archive of the deployment's own commit.
      t.is(builds.length, 1);
      const [bucket, ...key] = builds[0]!.sourceLocationOverride!.split("/");
      const { entries } = readZip(Buffer.from(platform.aws.getObject(bucket!, key.join("/"))!.body));
      const top = `alice-notes-api-${deployment.commitSha.slice(0, 7)}/`;
      t.true(entries.length > 1 && entries.every((entry) => entry.path.startsWith(top)));
      t.true(entries.some((entry) => entry.path === `${top}package.json`));
    },
  );
}
