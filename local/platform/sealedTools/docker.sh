#!/usr/bin/env bash
# `docker` in a local build (npm start -- --run-builds): Slipway's stand-in, first on the build's PATH. Images are
# built by this machine's Docker engine (SLIPWAY_DOCKER, found when npm start began), with a Docker configuration of
# the build's own, so no credential or credential helper of this machine is used. Logins and pushes never leave the
# machine: the local registry is a folder (SLIPWAY_REGISTRY_DIR, one file per pushed tag), which keeps ECR's rules:
# with IMMUTABLE tags a tag is pushed once
# (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html).
# Docker Hub and ECR Public are only pulled from, anonymously (the build's ECR Public login stays here).
set -euo pipefail

fail() {
  echo "$*" >&2
  exit 1
}

require_docker() {
  [ -n "${SLIPWAY_DOCKER:-}" ] || fail "Slipway (local build): Docker is not installed: no 'docker' was on PATH when npm start began, and building an image needs a Docker engine. Install Docker (https://docs.docker.com/engine/install/), or run npm start without --run-builds."
}

engine() {
  require_docker
  "$SLIPWAY_DOCKER" "$@"
}

# The registry file of <host>/<repository>:<tag>, refusing any registry but the local one.
entry() {
  local reference="$1" host repository tag
  host="${reference%%/*}"
  [ "$host" = "$SLIPWAY_REGISTRY_HOST" ] ||
    fail "Slipway (local build): images go only to the local registry $SLIPWAY_REGISTRY_HOST, not to $host"
  repository="${reference#*/}"
  tag="${repository##*:}"
  [ "$tag" != "$repository" ] || fail "Slipway (local build): $reference names no tag"
  repository="${repository%:*}"
  printf '%s/%s/%s' "$SLIPWAY_REGISTRY_DIR" "$repository" "$tag"
}

command="${1:-}"
case "$command" in
  login)
    host="${*: -1}"
    password="$(cat)"
    case "$host" in
      "$SLIPWAY_REGISTRY_HOST") expected="$SLIPWAY_REGISTRY_PASSWORD" ;;
      public.ecr.aws) expected="$SLIPWAY_PUBLIC_REGISTRY_PASSWORD" ;;
      *) fail "Slipway (local build): logging in to $host is refused; local builds log in only to $SLIPWAY_REGISTRY_HOST and public.ecr.aws" ;;
    esac
    [ "$password" = "$expected" ] ||
      fail "Error response from daemon: login attempt to https://$host/v2/ failed with status: 401 Unauthorized"
    echo "Login Succeeded"
    ;;
  build)
    for arg in "$@"; do
      case "$arg" in
        --push | --output* | -o) fail "Slipway (local build): docker build $arg is refused; images leave the build only through docker push" ;;
      esac
    done
    require_docker
    engine info >/dev/null 2>&1 ||
      fail "Slipway (local build): Docker is installed ($SLIPWAY_DOCKER) but its engine does not answer; start it (e.g. sudo systemctl start docker) and deploy again."
    engine "$@"
    ;;
  push)
    reference="${*: -1}"
    file="$(entry "$reference")"
    image="$(engine image inspect --format '{{.Id}}' "$reference")" ||
      fail "An image does not exist locally with the tag: $reference"
    if [ -e "$file" ] && [ "${SLIPWAY_TAG_MUTABILITY:-MUTABLE}" = IMMUTABLE ]; then
      repository="${file%/*}"
      fail "tag invalid: The image tag '${file##*/}' already exists in the '${repository#"$SLIPWAY_REGISTRY_DIR"/}' repository and cannot be overwritten because the repository is immutable."
    fi
    mkdir -p "${file%/*}"
    printf '%s\n' "$image" >"$file"
    echo "${file##*/}: digest: $image"
    ;;
  image)
    # push-image.sh reads the pushed digest as RepoDigests; the local registry answers it.
    if [ "${2:-}" = inspect ] && [[ $* == *.RepoDigests* ]]; then
      reference="${*: -1}"
      file="$(entry "$reference")"
      [ -f "$file" ] && printf '%s@%s\n' "${reference%:*}" "$(cat "$file")"
    else
      engine "$@"
    fi
    ;;
  logout)
    echo "Removing login credentials for ${2:-the registry}"
    ;;
  pull | tag | images | inspect | info | version)
    engine "$@"
    ;;
  *)
    fail "Slipway (local build): 'docker $command' is not available in a local build (build, push, login, image inspect, pull, tag, images, info and version are)"
    ;;
esac
