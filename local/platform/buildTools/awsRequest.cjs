// One AWS JSON 1.1 request, as the CLI sends it, to AWS_ENDPOINT_URL (the local AWS emulator) with the build's
// credentials from the environment. The SigV4 credential scope is real; the signature is not (the emulator reads the
// access key id from the scope and does not verify signatures). Shared by the `aws` and `docker` stand-ins.
/* global process, fetch, module */
"use strict";

async function awsRequest({ service, region, target, body }) {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  if (!endpoint || !accessKeyId) {
    throw new Error("Unable to locate credentials or endpoint: AWS_ENDPOINT_URL and AWS_ACCESS_KEY_ID must be set");
  }
  const now = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": target,
      "x-amz-date": now,
      authorization:
        `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${now.slice(0, 8)}/${region}/${service}/aws4_request, ` +
        `SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${"0".repeat(64)}`,
    },
    body: JSON.stringify(body ?? {}),
  });
  const answer = JSON.parse((await response.text()) || "{}");
  if (!response.ok) {
    const code = String(answer.__type ?? response.status)
      .split("#")
      .pop();
    const operation = target.slice(target.lastIndexOf(".") + 1);
    const error = new Error(
      `An error occurred (${code}) when calling the ${operation} operation: ${answer.message ?? ""}`,
    );
    error.code = code;
    throw error;
  }
  return answer;
}

module.exports = { awsRequest };
