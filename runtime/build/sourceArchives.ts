import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

export interface SourceArchives {
  /** Stores a commit's archive where the build can read it; returns CodeBuild's `bucket/key` location. */
  stage(deploymentId: string, archive: Uint8Array): Promise<string>;
}

/** The object key of a deployment's source: one per deployment, so a retry overwrites the same bytes. */
export const sourceKey = (deploymentId: string) => `sources/${deploymentId}.zip`;

/**
 * Sources go to a private bucket and the build reads them with its own role: no GitHub token ever reaches CodeBuild,
 * where anyone allowed to read builds could read it.
 */
export function createSourceArchives(s3: S3Client, bucket: string): SourceArchives {
  return {
    async stage(deploymentId, archive) {
      const key = sourceKey(deploymentId);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: archive, ContentType: "application/zip" }));
      return `${bucket}/${key}`;
    },
  };
}
