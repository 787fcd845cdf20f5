#!/usr/bin/env bash
# build: build the app's image in the app's folder (enter-source.sh went there), with the app's own Dockerfile or,
# without one, the builder's generated Dockerfile and its scripts, which the buildspec wrote to SLIPWAY_GENERATED_DIR
# (empty for the docker builder). The image's only tag is the deployment id: no other deployment, of this commit or
# any other, can reuse it, and the repository's tags are immutable.
set -euo pipefail
slipway_fail() {
  echo "Slipway: $*" >&2
  exit 1
}

slipway_args=(build
  --tag "$IMAGE_REPOSITORY_URI:$DEPLOYMENT_ID"
  --label "org.opencontainers.image.revision=$COMMIT_SHA"
  --label "org.opencontainers.image.source=https://github.com/$REPOSITORY"
  --label "dev.slipway.deployment-id=$DEPLOYMENT_ID")

if [ -f Dockerfile ]; then
  echo "Slipway: building with the app's own Dockerfile"
elif [ -z "${SLIPWAY_GENERATED_DIR:-}" ]; then
  slipway_fail "the docker builder builds the app's own Dockerfile, and ${ROOT_DIRECTORY:-the repository root} has none"
else
  # Outside the build context, so the app's files are exactly what COPY sees; the scripts reach the image build as
  # the named build context "slipway" (BuildKit, which the CodeBuild standard images' Docker uses through buildx).
  echo "Slipway: building with the generated ${SLIPWAY_BUILDER:-} Dockerfile:"
  cat "$SLIPWAY_GENERATED_DIR/Dockerfile"
  slipway_args+=(--file "$SLIPWAY_GENERATED_DIR/Dockerfile" --build-context "slipway=$SLIPWAY_GENERATED_DIR/scripts")
  # Hints become --build-arg NAME=value words: bash expands each value once, as data, so nothing in a hint is ever
  # run here. They describe the generated Dockerfile's ARGs (an app's own Dockerfile may use those names otherwise).
  # A RUNTIME_VERSION that is not a plain version number would make an invalid base image tag; it is dropped so the
  # builder's default applies.
  slipway_version_pattern='^[0-9]+([.][0-9]+){0,2}$'
  for slipway_hint in BUILD_COMMAND START_COMMAND RUNTIME_VERSION PACKAGE_MANAGER; do
    slipway_value="${!slipway_hint:-}"
    [ -n "$slipway_value" ] || continue
    if [ "$slipway_hint" = RUNTIME_VERSION ] && ! [[ $slipway_value =~ $slipway_version_pattern ]]; then
      echo "Slipway: ignoring RUNTIME_VERSION '$slipway_value' (expected a version number such as 20 or 3.12); the builder's default applies" >&2
      continue
    fi
    slipway_args+=(--build-arg "$slipway_hint=$slipway_value")
  done
fi
docker "${slipway_args[@]}" .
