import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import type { DashboardConfig } from "../web/src/dashboardConfig";

/*
 * The web dashboard (web/) on AWS: a private S3 bucket read only by one CloudFront distribution through origin access
 * control (CloudFront developer guide, "Restricting access to an Amazon S3 origin": OAC with sigv4, and a bucket
 * policy allowing cloudfront.amazonaws.com s3:GetObject on the condition AWS:SourceArn = the distribution), HTTPS
 * only, the single-page app's fallback to index.html, each file's Cache-Control from the build, and `config.json`
 * written at deploy time.
 */

/** AWS managed cache policy "Managed-CachingOptimized": honours the objects' Cache-Control, compresses. */
export const CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/** AWS managed response headers policy "Managed-SecurityHeadersPolicy" (HSTS, nosniff, frame options, referrer). */
export const SECURITY_HEADERS_POLICY_ID = "67f7725c-6f97-4210-82d7-5512b31e9d03";

export const DEFAULT_SITE_DIR = path.resolve(__dirname, "../web/dist");

export interface DashboardArgs {
  /** The built dashboard (`npm run build:web`). Default web/dist. */
  readonly siteDir?: string;
  /** The HTTP API's URL, written to config.json. */
  readonly apiUrl: pulumi.Input<string>;
  /** The OIDC issuer (the stack's jwtIssuer), written to config.json. */
  readonly issuer: pulumi.Input<string>;
  /** The OAuth client id (one of jwtAudience), written to config.json. */
  readonly clientId: pulumi.Input<string>;
  /** CloudFront price class. Default "PriceClass_100". */
  readonly priceClass?: pulumi.Input<string>;
  /** Let `pulumi destroy` empty the bucket. Default false. */
  readonly forceDestroy?: boolean;
}

export interface SiteFile {
  /** The object key, e.g. "assets/index-abc.js". */
  readonly key: string;
  readonly source: string;
  readonly contentType: string;
  readonly cacheControl: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

/** Vite names files under assets/ by their content hash: they never change, so they are cached for a year. */
export function cacheControlFor(key: string): string {
  return key.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache";
}

/** Every file of the built site with its content type and Cache-Control; throws naming the fix when it is not built. */
export function siteFiles(siteDir: string): SiteFile[] {
  if (!fs.existsSync(path.join(siteDir, "index.html"))) {
    throw new Error(
      `The dashboard is not built (${path.join(siteDir, "index.html")} is missing): run \`npm run build:web\` ` +
        "before `pulumi up`, or set [slipway:dashboard] to false.",
    );
  }
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? walk(full) : [full];
    });
  return walk(siteDir)
    .map((source) => path.relative(siteDir, source).split(path.sep).join("/"))
    .filter((key) => key !== "config.json") // written from the stack, not the build
    .sort()
    .map((key) => ({
      key,
      source: path.join(siteDir, key),
      contentType: CONTENT_TYPES[path.extname(key)] ?? "application/octet-stream",
      cacheControl: cacheControlFor(key),
    }));
}

/** Only this distribution may read the bucket, and only over TLS. */
export function siteBucketPolicy(bucketArn: string, distributionArn: string) {
  return {
    Version: "2012-10-17" as const,
    Statement: [
      {
        Sid: "CloudFrontReadsThroughOac",
        Effect: "Allow" as const,
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:GetObject",
        Resource: `${bucketArn}/*`,
        Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
      },
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny" as const,
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

/**
 * Page paths (`/deployment/…`) are no objects: S3 answers 403 through OAC (404 only with s3:ListBucket, which it is
 * not given), and CloudFront serves index.html with 200 instead, uncached, so a new deployment shows at once.
 */
export const SPA_FALLBACK = [403, 404].map((errorCode) => ({
  errorCode,
  responseCode: 200,
  responsePagePath: "/index.html",
  errorCachingMinTtl: 0,
}));

export class Dashboard extends pulumi.ComponentResource {
  /** `https://<distribution>.cloudfront.net` */
  public readonly url: pulumi.Output<string>;
  public readonly bucket: aws.s3.Bucket;
  public readonly distribution: aws.cloudfront.Distribution;

  constructor(name: string, args: DashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:web:Dashboard", name, {}, opts);
    const files = siteFiles(args.siteDir ?? DEFAULT_SITE_DIR);

    this.bucket = new aws.s3.Bucket(`${name}-site`, { forceDestroy: args.forceDestroy ?? false }, { parent: this });
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-site`,
      {
        bucket: this.bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { parent: this },
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-site`,
      { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent: this },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-site`,
      { bucket: this.bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      { parent: this },
    );
    const accessControl = new aws.cloudfront.OriginAccessControl(
      `${name}-site`,
      {
        description: "Slipway dashboard: CloudFront reads the private site bucket",
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
      { parent: this },
    );
    this.distribution = new aws.cloudfront.Distribution(
      `${name}-site`,
      {
        enabled: true,
        comment: "Slipway dashboard",
        defaultRootObject: "index.html",
        httpVersion: "http2and3",
        isIpv6Enabled: true,
        priceClass: args.priceClass ?? "PriceClass_100",
        origins: [
          {
            originId: "site",
            domainName: this.bucket.bucketRegionalDomainName,
            originAccessControlId: accessControl.id,
          },
        ],
        defaultCacheBehavior: {
          targetOriginId: "site",
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          cachedMethods: ["GET", "HEAD"],
          compress: true,
          cachePolicyId: CACHING_OPTIMIZED_POLICY_ID,
          responseHeadersPolicyId: SECURITY_HEADERS_POLICY_ID,
        },
        customErrorResponses: SPA_FALLBACK,
        restrictions: { geoRestriction: { restrictionType: "none" } },
        viewerCertificate: { cloudfrontDefaultCertificate: true, minimumProtocolVersion: "TLSv1.2_2021" },
      },
      { parent: this },
    );
    new aws.s3.BucketPolicy(
      `${name}-site`,
      {
        bucket: this.bucket.id,
        policy: pulumi
          .all([this.bucket.arn, this.distribution.arn])
          .apply(([bucketArn, distributionArn]) => JSON.stringify(siteBucketPolicy(bucketArn, distributionArn))),
      },
      { parent: this, dependsOn: [publicAccess] },
    );

    for (const file of files) {
      new aws.s3.BucketObjectv2(
        `${name}-site-${file.key}`,
        {
          bucket: this.bucket.id,
          key: file.key,
          source: new pulumi.asset.FileAsset(file.source),
          contentType: file.contentType,
          cacheControl: file.cacheControl,
        },
        { parent: this },
      );
    }
    const config: pulumi.Output<DashboardConfig> = pulumi
      .all([args.apiUrl, args.issuer, args.clientId])
      .apply(([apiUrl, issuer, clientId]) => ({ apiUrl: apiUrl.replace(/\/+$/, ""), issuer, clientId }));
    new aws.s3.BucketObjectv2(
      `${name}-site-config.json`,
      {
        bucket: this.bucket.id,
        key: "config.json",
        content: config.apply((value) => JSON.stringify(value)),
        contentType: "application/json",
        cacheControl: cacheControlFor("config.json"),
      },
      { parent: this },
    );

    this.url = pulumi.interpolate`https://${this.distribution.domainName}`;
    this.registerOutputs({ url: this.url, bucketName: this.bucket.bucket, distributionId: this.distribution.id });
  }
}
