#!/usr/bin/env bash
# post_build, which CodeBuild runs even after a failed build: push the image only when the build succeeded.
# The repository's tags are immutable, so the push fails rather than replace an image a deployment points at.
set -euo pipefail

if [ "${CODEBUILD_BUILD_SUCCEEDING:-0}" != 1 ]; then
  echo "Slipway: the build failed, so no image was pushed" >&2
else
  slipway_image="$IMAGE_REPOSITORY_URI:$DEPLOYMENT_ID"
  docker push "$slipway_image"
  slipway_digest="$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$slipway_image" |
    grep -F "$IMAGE_REPOSITORY_URI@" | head -n 1)" || slipway_digest=""
  echo "Slipway: pushed ${slipway_digest:-(digest unknown)} as $slipway_image"
fi
