#!/usr/bin/env bash
# pre_build and build: enter the app, that is the source archive's single top-level folder (GitHub names it
# <owner>-<repo>-<sha7>), then ROOT_DIRECTORY inside it. Paths are absolute, so running it twice in one shell lands
# in the same place.
set -euo pipefail
slipway_fail() {
  echo "Slipway: $*" >&2
  exit 1
}

mapfile -d '' -t slipway_entries < <(find "$CODEBUILD_SRC_DIR" -mindepth 1 -maxdepth 1 -print0)
if [ "${#slipway_entries[@]}" -ne 1 ] || [ ! -d "${slipway_entries[0]}" ]; then
  slipway_fail "the source archive must hold exactly one top-level folder (GitHub's <owner>-<repo>-<sha7>/), but $CODEBUILD_SRC_DIR holds ${#slipway_entries[@]} entries: $(find "$CODEBUILD_SRC_DIR" -mindepth 1 -maxdepth 1 -printf '%f ' | head -c 400)"
fi
slipway_root="${ROOT_DIRECTORY:-}"
[[ $slipway_root != /* ]] ||
  slipway_fail "ROOT_DIRECTORY must be relative to the repository root, got '$slipway_root'"
[[ "/$slipway_root/" != */../* ]] ||
  slipway_fail "ROOT_DIRECTORY may not leave the repository with '..', got '$slipway_root'"
slipway_top="$(cd -P "${slipway_entries[0]}" && pwd)"
slipway_app="$(cd -P "$slipway_top/$slipway_root" 2>/dev/null && pwd)" ||
  slipway_fail "ROOT_DIRECTORY '$slipway_root' is not a folder of $REPOSITORY at $COMMIT_SHA"
[[ $slipway_app == "$slipway_top" || $slipway_app == "$slipway_top"/* ]] ||
  slipway_fail "ROOT_DIRECTORY '$slipway_root' leads outside the repository (through a symbolic link)"
cd "$slipway_app"
echo "Slipway: building $REPOSITORY at $COMMIT_SHA from ${slipway_root:-the repository root}"
