import test from "ava";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CACHING_OPTIMIZED_POLICY_ID, siteBucketPolicy, siteFiles, SPA_FALLBACK } from "../components/dashboard";
import { findResource, findResources } from "./helpers/pulumiMocks";
import { loadStack, type LoadedStack } from "./helpers/stack";

let stack: LoadedStack;
test.before(async () => {
  stack = await loadStack(undefined, { functionCode: "archives" }); // the site, not the functions' code
});

const one = (type: string, name: string) => findResource(stack.resources, type, name);

test("the dashboard: a private bucket, read only by its CloudFront distribution through origin access control", (t) => {
  const component = stack.resources.find((r) => r.type === "slipway:web:Dashboard");
  t.is(component?.name, "slipway");
  t.like(one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "slipway-site").inputs, {
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  t.like(one("aws:cloudfront/originAccessControl:OriginAccessControl", "slipway-site").inputs, {
    originAccessControlOriginType: "s3",
    signingBehavior: "always",
    signingProtocol: "sigv4",
  });
  const distribution = one("aws:cloudfront/distribution:Distribution", "slipway-site").inputs;
  t.is(distribution.defaultRootObject, "index.html");
  t.is(distribution.origins[0].originAccessControlId, "slipway-site-id");
  t.like(distribution.defaultCacheBehavior, {
    viewerProtocolPolicy: "redirect-to-https",
    allowedMethods: ["GET", "HEAD"],
    cachePolicyId: CACHING_OPTIMIZED_POLICY_ID,
  });
  t.deepEqual(distribution.customErrorResponses, SPA_FALLBACK);
  const policy = JSON.parse(one("aws:s3/bucketPolicy:BucketPolicy", "slipway-site").inputs.policy);
  t.is(policy.Statement[0].Principal.Service, "cloudfront.amazonaws.com");
  t.deepEqual(policy.Statement[0].Action, "s3:GetObject");
  t.truthy(policy.Statement[0].Condition.StringEquals["AWS:SourceArn"], "only this distribution");
});

test("the build's files are uploaded with their cache headers, and config.json is written from the stack", (t) => {
  const objects = findResources(stack.resources, "aws:s3/bucketObjectv2:BucketObjectv2");
  const index = objects.find((o) => o.inputs.key === "index.html");
  t.like(index?.inputs, { contentType: "text/html; charset=utf-8", cacheControl: "no-cache" });
  const script = objects.find((o) => /^assets\/.*\.js$/.test(o.inputs.key));
  t.like(script?.inputs, { cacheControl: "public, max-age=31536000, immutable" });
  const config = objects.find((o) => o.inputs.key === "config.json");
  t.deepEqual(JSON.parse(config!.inputs.content), {
    apiUrl: String(stack.outputs.apiUrl).replace(/\/$/, ""),
    issuer: "https://issuer.example.com/",
    clientId: "slipway-web",
  });
  t.is(config!.inputs.cacheControl, "no-cache");
});

test("dashboardUrl is an output and the API's CORS allows it beside the configured origins", (t) => {
  t.regex(String(stack.outputs.dashboardUrl), /^https:\/\/.+/);
  const api = one("aws:apigatewayv2/api:Api", "slipway").inputs;
  t.deepEqual(api.corsConfiguration.allowOrigins, ["https://app.example.com", stack.outputs.dashboardUrl]);
});

test("siteFiles: names the fix when the dashboard is not built; siteBucketPolicy denies plain HTTP", (t) => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-site-"));
  t.throws(() => siteFiles(empty), { message: /npm run build:web.*\[slipway:dashboard\] to false/ });
  fs.rmSync(empty, { recursive: true });
  const deny = siteBucketPolicy("arn:aws:s3:::b", "arn:aws:cloudfront::1:distribution/D").Statement[1]!;
  t.like(deny, { Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
});
