#!/usr/bin/env bash
# pre_build: the variables every build needs. The build project sets IMAGE_REPOSITORY_URI, CodeBuild sets AWS_REGION
# and CODEBUILD_SRC_DIR, the inspector sets DEPLOYMENT_ID, COMMIT_SHA and REPOSITORY on every build.
# Each buildspec command starts strict and defines its own slipway_fail, so it behaves the same whether CodeBuild runs
# the commands in one shell (buildspec 0.2) or each in its own. Variables are prefixed slipway_ to stay out of the way.
set -euo pipefail
slipway_fail() {
  echo "Slipway: $*" >&2
  exit 1
}

for slipway_name in IMAGE_REPOSITORY_URI DEPLOYMENT_ID COMMIT_SHA REPOSITORY AWS_REGION CODEBUILD_SRC_DIR; do
  [ -n "${!slipway_name:-}" ] ||
    slipway_fail "$slipway_name is not set (the build project sets IMAGE_REPOSITORY_URI; the inspector sets DEPLOYMENT_ID, COMMIT_SHA and REPOSITORY on every build)"
done
[[ $COMMIT_SHA =~ ^[0-9a-f]{40}$ ]] ||
  slipway_fail "COMMIT_SHA must be a full 40-character commit SHA, got '$COMMIT_SHA'"
# The deployment id is the image's only tag: ECR allows [a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}.
[[ $DEPLOYMENT_ID =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] ||
  slipway_fail "DEPLOYMENT_ID '$DEPLOYMENT_ID' cannot be an image tag"
