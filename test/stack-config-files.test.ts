import * as fs from "node:fs";
import * as path from "node:path";
import test from "ava";
import { parse } from "yaml";
import { loadStackConfig } from "../components/stackConfig";
import { fakeConfig } from "./helpers/config";
import { parseBuildProjects } from "../runtime/inspect/handlers";

/** A stack file's `slipway:` keys as pulumi.Config would read them (secrets are set apart, with --secret). */
function stackFile(stack: string, secrets: Record<string, string> = {}) {
  const file = parse(fs.readFileSync(path.join(__dirname, "..", `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  const values = Object.fromEntries(
    Object.entries(file.config)
      .filter(([key]) => key.startsWith("slipway:"))
      .map(([key, value]) => [key.slice("slipway:".length), value]),
  );
  return fakeConfig(values, secrets);
}

test("Pulumi.prod.yaml keeps deletion protection, point-in-time recovery and artifacts", (t) => {
  const config = loadStackConfig(stackFile("prod"));
  t.true(config.deletionProtection);
  t.true(config.pointInTimeRecovery);
  t.false(config.forceDestroy);
  t.regex(config.githubAppPrivateKeySecretArn!, /^arn:aws:secretsmanager:/);
});

test("Pulumi.dev.yaml is a valid, disposable stack once the key is set as a secret", (t) => {
  const config = loadStackConfig(stackFile("dev", { githubAppPrivateKey: "pem" }));
  t.false(config.deletionProtection);
  t.true(config.forceDestroy);
  t.throws(
    () => loadStackConfig(stackFile("dev")),
    { message: /githubAppPrivateKey/ },
    "without the secret it says how to set it",
  );
});

test("BUILD_PROJECTS must map known builders to project names", (t) => {
  t.deepEqual(parseBuildProjects('{"maven":"slipway-maven-dev"}'), { maven: "slipway-maven-dev" });
  t.throws(() => parseBuildProjects('{"cobol":"x"}'), { message: /unknown builder/ });
  t.throws(() => parseBuildProjects("[]"), { message: /JSON object/ });
});
