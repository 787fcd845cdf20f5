import * as fs from "node:fs";
import * as path from "node:path";
import anyTest, { type TestFn } from "ava";
import type { WebhookDelivery } from "../local/emulators/github";
import { LOCAL_SETUP_PATH } from "../local/platform/platform";
import { git } from "./helpers/emulators";
import { api, bootPlatform, reaches, repositoriesFolder } from "./helpers/localPlatform";

const test = anyTest as TestFn<{
  platform: Awaited<ReturnType<typeof bootPlatform>>;
  deliveries: WebhookDelivery[];
}>;

const OWNER = "alice";

// One platform for the file: started unlinked, with `alice/landing` a git checkout.
test.before(async (t) => {
  t.timeout(10 * 60_000, "booting the platform on a loaded machine");
  const root = repositoriesFolder(OWNER);
  const checkout = path.join(root, OWNER, "landing");
  git(checkout, "init", "-q", "-b", "main");
  git(checkout, "add", "-A");
  git(checkout, "commit", "-q", "-m", "first");
  const deliveries: WebhookDelivery[] = [];
  const platform = await bootPlatform(root, {
    unlinked: true,
    simulatedBuildSeconds: 1,
    onWebhookDelivery: (delivery) => deliveries.push(delivery),
  });
  t.context = { platform, deliveries };
});
test.after.always(async (t) => {
  await t.context.platform?.cleanUp();
});

test.serial(
  "install → link → project → git commit → a deployment of that commit, all through the emulator",
  async (t) => {
    const { platform, deliveries } = t.context;
    const github = platform.github!;
    const token = await platform.token(OWNER);

    // Started unlinked: nothing linked, nothing to list, and a deployment fails naming the install URL.
    t.deepEqual((await api(platform, "GET", "/github/installations", { token })).body, { installations: [] });
    t.deepEqual((await api(platform, "GET", "/repositories", { token })).body, { items: [] });

    // GET /github/install → the emulator's install page.
    const install = await api(platform, "GET", "/github/install", { token });
    t.is(install.status, 200);
    const installUrl = new URL(install.body.url);
    t.is(installUrl.origin + installUrl.pathname, `${github.url}/apps/slipway-local/installations/new`);
    const pageAnswer = await fetch(installUrl);
    t.is(pageAnswer.status, 200);
    t.regex(await pageAnswer.text(), /Install on alice/);

    // Choosing alice installs the App and sends the user to the setup URL with installation_id, code and state.
    const chosen = await fetch(installUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ target: OWNER, state: install.body.state }).toString(),
      redirect: "manual",
    });
    t.is(chosen.status, 302);
    const setup = new URL(chosen.headers.get("location")!);
    t.is(setup.origin + setup.pathname, `${platform.apiUrl}${LOCAL_SETUP_PATH}`);
    t.is(setup.searchParams.get("setup_action"), "install");
    t.is(setup.searchParams.get("state"), install.body.state);
    const installationId = Number(setup.searchParams.get("installation_id"));
    t.is(installationId, github.installationIdFor(OWNER));
    const created = deliveries.find((d) => d.event === "installation" && d.action === "created");
    t.truthy(created, "installation.created was delivered before the redirect");
    t.true(created!.status! >= 200 && created!.status! < 300, `the platform accepted it: ${created?.status}`);

    // The setup page's POST: the code is exchanged with the emulator (octokit's OAuth helpers) and checked.
    const link = await api(platform, "POST", "/github/installations", {
      token,
      body: { installationId, code: setup.searchParams.get("code"), state: setup.searchParams.get("state") },
    });
    t.is(link.status, 201, JSON.stringify(link.body));
    t.like(link.body, { installationId, account: OWNER });

    const repositories = await api(platform, "GET", "/repositories?limit=100", { token });
    t.is(repositories.status, 200);
    t.true(
      repositories.body.items.some(
        (item: { fullName: string; installationId: number }) =>
          item.fullName === `${OWNER}/landing` && item.installationId === installationId,
      ),
    );

    const project = await api(platform, "PUT", `/projects/${OWNER}/landing`, { token, body: { autoDeploy: true } });
    t.true(project.status === 200 || project.status === 201, JSON.stringify(project.body));

    // git commit in the checkout: the emulator sees the branch move and delivers a signed push.
    const checkout = path.join(platform.reposDir!, OWNER, "landing");
    fs.writeFileSync(path.join(checkout, "index.html"), "<!doctype html><title>v2</title>\n");
    git(checkout, "commit", "-q", "-am", "second");
    const sha = git(checkout, "rev-parse", "HEAD");
    await github.checkPushes();
    const push = deliveries.find((d) => d.event === "push" && d.payload.after === sha);
    t.truthy(push, "a push was delivered for the new commit");
    t.true(push!.status! >= 200 && push!.status! < 300, `the platform accepted it: ${push?.status}`);

    const listed = await api(platform, "GET", "/deployments", { token });
    const deployment = listed.body.items.find((d: { commitSha: string }) => d.commitSha === sha);
    t.truthy(deployment, "a deployment of that commit");
    t.like(deployment, { repository: `${OWNER}/landing`, trigger: "push", ref: "main" });
    const done = await reaches(platform, token, deployment.id, ["SUCCEEDED", "FAILED", "CANCELED"]);
    t.is(done.status, "SUCCEEDED", JSON.stringify(done.statusReason));
    t.is(done.commitSha, sha);
  },
);
