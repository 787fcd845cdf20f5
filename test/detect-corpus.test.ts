import test from "ava";
import { readdirSync, readFileSync } from "fs";
import { join } from "path";
import { createGitHubFileSystem, createMemoryFileSystem } from "../runtime/detect/fileSystem";
import { candidatesOf, detectPlan } from "../runtime/detect/plan";
import { isPermanentError } from "../runtime/errors";
import { fakeGitHubReader } from "./helpers/fakeRepo";

/** One repository of the corpus another engineer keeps in test/fixtures/repos (format in its README or the brief). */
interface Fixture {
  readonly source: string;
  readonly notes?: string;
  readonly files: Record<string, string | null>;
  readonly expected:
    | { readonly framework: string; readonly builder: string; readonly rootDirectory: string }
    | { readonly reason: string; readonly candidates: readonly string[] };
}

const folder = join(__dirname, "fixtures", "repos");
const fixtureFiles = (() => {
  try {
    return readdirSync(folder)
      .filter((name) => name.endsWith(".json"))
      .sort();
  } catch {
    return [];
  }
})();

/** Corpus budget, from the issue: 2 GitHub requests for a single app, 4 for a monorepo (token minting not counted). */
const budget = (fixture: Fixture) => ("reason" in fixture.expected || fixture.expected.rootDirectory !== "" ? 4 : 2);

test(`corpus: ${fixtureFiles.length} fixtures, each well-formed`, (t) => {
  t.log(`${fixtureFiles.length} fixtures in test/fixtures/repos`);
  for (const name of fixtureFiles) {
    const fixture = JSON.parse(readFileSync(join(folder, name), "utf8")) as Partial<Fixture>;
    t.is(typeof fixture.source, "string", `${name}: source`);
    t.true(typeof fixture.files === "object" && fixture.files !== null, `${name}: files`);
    const expected = fixture.expected as Record<string, unknown> | undefined;
    const plan =
      typeof expected?.["framework"] === "string" &&
      typeof expected["builder"] === "string" &&
      typeof expected["rootDirectory"] === "string";
    const failure = typeof expected?.["reason"] === "string" && Array.isArray(expected["candidates"]);
    t.true(
      plan || failure,
      `${name}: expected is a plan (framework, builder, rootDirectory) or a failure (reason, candidates)`,
    );
  }
  if (fixtureFiles.length === 0) t.pass();
});

for (const name of fixtureFiles) {
  const fixture = JSON.parse(readFileSync(join(folder, name), "utf8")) as Fixture;
  const title = `corpus: ${name.replace(/\.json$/, "")}`;

  test(title, async (t) => {
    const expected = fixture.expected;
    if ("reason" in expected) {
      const error = await t.throwsAsync(detectPlan(createMemoryFileSystem(fixture.files)));
      t.true(isPermanentError(error), "a detection failure is a PermanentError");
      t.is((error as { code?: string }).code, expected.reason, error?.message);
      t.deepEqual([...(candidatesOf(error) ?? [])].map((c) => c.rootDirectory).sort(), [...expected.candidates].sort());
      return;
    }
    const plan = await detectPlan(createMemoryFileSystem(fixture.files));
    t.deepEqual(
      { framework: plan.framework, builder: plan.builder, rootDirectory: plan.rootDirectory },
      { framework: expected.framework, builder: expected.builder, rootDirectory: expected.rootDirectory },
      JSON.stringify(plan.evidence, null, 1),
    );
  });

  test(`${title} (GitHub backend within the request budget)`, async (t) => {
    const { reader, calls } = fakeGitHubReader(fixture.files);
    const fs = createGitHubFileSystem(reader);
    const outcome = await detectPlan(fs).then(
      (plan) => ({ framework: plan.framework, rootDirectory: plan.rootDirectory }),
      (error: unknown) => ({ code: (error as { code?: string }).code }),
    );
    const memory = await detectPlan(createMemoryFileSystem(fixture.files)).then(
      (plan) => ({ framework: plan.framework, rootDirectory: plan.rootDirectory }),
      (error: unknown) => ({ code: (error as { code?: string }).code }),
    );
    t.deepEqual(outcome, memory, "both backends decide alike");
    t.true(
      fs.stats().requests <= budget(fixture),
      `${fs.stats().requests} requests: ${JSON.stringify(calls.map((c) => c.paths.length))}`,
    );
  });
}
