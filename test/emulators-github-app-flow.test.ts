import * as path from "node:path";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import test, { type ExecutionContext } from "ava";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import schema from "@octokit/webhooks-schemas";
import { createGitHubUserClient } from "../runtime/onboarding/githubUserClient";
import { startGitHub, type WebhookDelivery } from "../local/emulators/github";
import { generateAppKeys, git, temporaryFolder } from "./helpers/emulators";

/*
 * The emulated App's web side: install page, the OAuth exchange as the runtime makes it (@octokit/oauth-methods),
 * GET /user/installations, and signed deliveries whose payloads validate against @octokit/webhooks-schemas.
 */

const SETTINGS = {
  slug: "slipway-test",
  clientId: "Iv1.test",
  clientSecret: "client-secret",
  webhookSecret: "hook-secret",
};
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(schema as object, "webhooks");
const validatorFor = (definition: string) => ajv.getSchema(`webhooks#/definitions/${definition}`)!;

/** A receiver that verifies each delivery's signature with @octokit/webhooks, as the platform does. */
async function receiver(t: { teardown(fn: () => void): void }) {
  const { Webhooks } = await import("@octokit/webhooks");
  const verifier = new Webhooks({ secret: SETTINGS.webhookSecret });
  const received: { event: string; delivery: string; valid: boolean; body: Record<string, unknown> }[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => (text += String(chunk)));
    req.on("end", () => {
      void verifier.verify(text, String(req.headers["x-hub-signature-256"])).then((valid) => {
        received.push({
          event: String(req.headers["x-github-event"]),
          delivery: String(req.headers["x-github-delivery"]),
          valid,
          body: JSON.parse(text) as Record<string, unknown>,
        });
        res.statusCode = valid ? 202 : 401;
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

async function emulator(t: ExecutionContext) {
  const root = temporaryFolder(t, "slipway-app-flow-");
  const checkout = path.join(root, "octo", "site");
  await import("node:fs").then((fs) => {
    fs.mkdirSync(checkout, { recursive: true });
    fs.writeFileSync(path.join(checkout, "index.html"), "<p>hi</p>\n");
  });
  git(checkout, "init", "-q", "-b", "main");
  git(checkout, "add", "-A");
  git(checkout, "commit", "-q", "-m", "first");
  const hook = await receiver(t);
  const deliveries: WebhookDelivery[] = [];
  const keys = generateAppKeys();
  const github = await startGitHub({
    appId: 77,
    appPublicKey: keys.publicKey,
    root,
    app: {
      ...SETTINGS,
      webhookUrl: hook.url,
      setupUrl: "http://127.0.0.1:1/github/setup",
      startUninstalled: true,
      pushPollMs: 0,
      onDelivery: (delivery) => deliveries.push(delivery),
    },
  });
  t.teardown(() => github.close());
  return { github, hook, checkout, deliveries };
}

test("install page → setup URL with installation_id, setup_action, code and state; the code works once", async (t) => {
  const { github, hook } = await emulator(t);
  const url = `${github.url}/apps/slipway-test/installations/new?state=abc`;
  t.regex(await (await fetch(url)).text(), /Install on octo/);
  t.is((await fetch(`${github.url}/apps/other/installations/new`)).status, 404);
  const answer = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "target=octo&state=abc",
    redirect: "manual",
  });
  t.is(answer.status, 302);
  const setup = new URL(answer.headers.get("location")!);
  t.is(setup.searchParams.get("installation_id"), String(github.installationIdFor("octo")));
  t.is(setup.searchParams.get("setup_action"), "install");
  t.is(setup.searchParams.get("state"), "abc");
  const code = setup.searchParams.get("code")!;

  // The runtime's own client: @octokit/oauth-methods' exchange, then GET /user/installations.
  const client = createGitHubUserClient({
    clientId: SETTINGS.clientId,
    loadClientSecret: async () => SETTINGS.clientSecret,
    baseUrl: github.url,
  });
  const userToken = await client.exchangeCode(code);
  t.regex(userToken, /^ghu_/);
  t.deepEqual(
    (await client.listInstallations(userToken)).map((i) => [i.id, i.accountLogin]),
    [[github.installationIdFor("octo"), "octo"]],
  );
  const replay = await client.exchangeCode(code).catch((error: unknown) => error);
  t.is((replay as { field?: string }).field, "code", `a code is single use (got: ${String(replay)})`);
  const wrongSecret = createGitHubUserClient({
    clientId: SETTINGS.clientId,
    loadClientSecret: async () => "wrong",
    baseUrl: github.url,
  });
  await t.throwsAsync(wrongSecret.exchangeCode("whatever"));

  // installation.created was delivered, signed, and its payload is GitHub's shape.
  const created = hook.received.find((r) => r.event === "installation");
  t.truthy(created);
  t.true(created!.valid);
  t.regex(created!.delivery, /^[0-9a-f-]{36}$/);
  const validate = validatorFor("installation$created");
  t.true(validate(created!.body), ajv.errorsText(validate.errors));
});

test("git commit in a checkout delivers a push; uninstalling delivers installation.deleted; both validate", async (t) => {
  const { github, hook, checkout } = await emulator(t);
  await github.install("octo");
  await github.checkPushes(); // the refs as they are now
  const before = git(checkout, "rev-parse", "HEAD");
  git(checkout, "commit", "-q", "--allow-empty", "-m", "second");
  const after = git(checkout, "rev-parse", "HEAD");
  await github.checkPushes();
  const push = hook.received.find((r) => r.event === "push");
  t.truthy(push, "a push was delivered");
  t.true(push!.valid);
  t.like(push!.body, { ref: "refs/heads/main", before, after });
  const validatePush = validatorFor("push$event");
  t.true(validatePush(push!.body), ajv.errorsText(validatePush.errors));

  github.uninstall("octo");
  await github.checkPushes(); // deliveries are sent in order: this waits for the one before it
  const deleted = hook.received.find((r) => r.event === "installation" && r.body.action === "deleted");
  t.truthy(deleted);
  const validateDeleted = validatorFor("installation$deleted");
  t.true(validateDeleted(deleted!.body), ajv.errorsText(validateDeleted.errors));
});
