import type { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

export interface SourceArchives {
  /**
   * Streams a commit's archive to where the build can read it; returns CodeBuild's `bucket/key` location. The object
   * appears only if `body` ends without an error (a failed or stopped upload leaves no object behind).
   */
  stage(deploymentId: string, body: Readable, options?: { abortSignal?: AbortSignal }): Promise<string>;
}

/** The object key of a deployment's source: one per deployment, so a retry overwrites the same bytes. */
export const sourceKey = (deploymentId: string) => `sources/${deploymentId}.zip`;

/**
 * Multipart part size and how many parts are in flight: an upload holds at most PART_BYTES × PARTS_IN_FLIGHT of the
 * archive in memory (lib-storage's own bound), whatever the archive's size. An archive smaller than one part is
 * sent as one PutObject.
 */
export const PART_BYTES = 8 * 1024 * 1024;
export const PARTS_IN_FLIGHT = 2;
/** What one staging upload can hold in memory: see PART_BYTES. */
export const STAGING_MEMORY_BYTES = PART_BYTES * PARTS_IN_FLIGHT;

/**
 * Sources go to a private bucket and the build reads them with its own role: no GitHub token ever reaches CodeBuild,
 * where anyone allowed to read builds could read it. The archive is streamed from GitHub to S3 (lib-storage's
 * Upload: multipart for large archives), never held whole in the function's memory.
 */
export function createSourceArchives(s3: S3Client, bucket: string): SourceArchives {
  return {
    async stage(deploymentId, body, options = {}) {
      const key = sourceKey(deploymentId);
      const abortController = new AbortController();
      const upload = new Upload({
        client: s3,
        params: { Bucket: bucket, Key: key, Body: body, ContentType: "application/zip" },
        partSize: PART_BYTES,
        queueSize: PARTS_IN_FLIGHT,
        // A failed upload's parts are not aborted here: the role has no s3:AbortMultipartUpload, and the source
        // bucket's lifecycle rule ends incomplete uploads after a day. Nothing is visible until a complete upload.
        leavePartsOnError: true,
        abortController,
      });
      const abort = () => abortController.abort();
      if (options.abortSignal?.aborted) abort();
      options.abortSignal?.addEventListener("abort", abort, { once: true });
      // A body that fails stops the upload at once, not at the next part.
      body.once("error", abort);
      try {
        await upload.done();
      } catch (error) {
        // The body's own error says what went wrong (an incomplete download); the upload's is only "aborted".
        const cause = (body as { errored?: unknown }).errored;
        throw cause ?? error;
      } finally {
        options.abortSignal?.removeEventListener("abort", abort);
        body.off("error", abort);
      }
      return `${bucket}/${key}`;
    },
  };
}
