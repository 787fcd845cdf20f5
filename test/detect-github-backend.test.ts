/**
 * Every corpus fixture served by the GitHub emulator and detected through the inspector's own wiring (repository
 * sessions → createRepositoryClient → createGitHubFileSystem → detectPlan): the plan must be the fixture's, within
 * the request budget.
 *
 * What counts (the same method `npm run bench` prints): the HTTP requests the emulator logs from the moment the
 * commit SHA is known until detection answers — the recursive tree and the GraphQL blob reads, retries included.
 * Minting the installation token is not counted (the issue says so), nor is resolving the ref to a SHA, which the
 * inspector does before detection because the source archive needs the SHA anyway; that is checked to be exactly
 * one request, separately.
 */
import anyTest, { type TestFn } from "ava";
import {
  isCorrect,
  isMonorepoFixture,
  loadCorpus,
  requestBudget,
  startGitHubCorpus,
  type GitHubCorpus,
} from "../bench/detection";

/** Serial: each count is a slice of the one emulator's request log. */
const test = (anyTest as TestFn<{ corpus: GitHubCorpus }>).serial;
const fixtures = loadCorpus();

const TREE = "GET /repos/{owner}/{repo}/git/trees/{tree_sha}";
const GRAPHQL = "POST /graphql";

test.before(async (t) => {
  t.context.corpus = await startGitHubCorpus(fixtures);
});
test.after.always(async (t) => {
  await t.context.corpus?.close();
});

test("the corpus is there: single apps and monorepos", (t) => {
  t.true(fixtures.length >= 60, `${fixtures.length} fixtures`);
  t.true(fixtures.some(isMonorepoFixture));
  t.true(fixtures.some((fixture) => !isMonorepoFixture(fixture)));
});

for (const fixture of fixtures) {
  test(`github backend: ${fixture.id}`, async (t) => {
    const { outcome, requests, resolveRequests } = await t.context.corpus.detect(fixture);
    if ("reason" in fixture.expected) {
      t.like(outcome, { reason: fixture.expected.reason });
      t.deepEqual(
        "reason" in outcome ? [...outcome.candidates].sort() : outcome,
        [...fixture.expected.candidates].sort(),
      );
    } else {
      t.deepEqual(outcome, {
        framework: fixture.expected.framework,
        builder: fixture.expected.builder,
        rootDirectory: fixture.expected.rootDirectory,
      });
    }
    t.true(isCorrect(fixture.expected, outcome));

    const budget = requestBudget(fixture);
    t.true(requests.length <= budget, `${requests.length} requests over a budget of ${budget}: ${requests.join(", ")}`);
    t.is(requests.filter((operation) => operation === TREE).length, 1, "one recursive tree listing");
    t.deepEqual(
      requests.filter((operation) => operation !== TREE && operation !== GRAPHQL),
      [],
      "nothing but the tree and GraphQL reads",
    );
    t.is(resolveRequests, 1, "the ref is resolved in one request");
  });
}

test("the count is of HTTP requests: a GraphQL read GitHub fails once and the client retries counts twice", async (t) => {
  const fixture = fixtures.find((candidate) => candidate.id.startsWith("nextjs--"));
  if (fixture === undefined) return t.fail("the corpus has a Next.js fixture");
  const { emulator } = t.context.corpus;
  emulator.inject({ operation: GRAPHQL, status: 502, body: { message: "Server Error" } });
  const { outcome, requests } = await t.context.corpus.detect(fixture);
  t.like(outcome, { framework: "nextjs" });
  t.deepEqual(requests, [TREE, GRAPHQL, GRAPHQL]);
});
