#!/bin/sh
# The node builder's build stage, in /build/src: install, build (BUILD_COMMAND, else the package's build script),
# then drop devDependencies.
set -eu
# shellcheck source=node-package-manager.sh
. "$(dirname "$0")/node-package-manager.sh"

slipway_install_node_dependencies
if [ -n "${BUILD_COMMAND:-}" ]; then
  echo "Slipway: running $BUILD_COMMAND"
  sh -c "$BUILD_COMMAND"
elif node -e "process.exit(require('./package.json').scripts?.build ? 0 : 1)"; then
  "$pm" run build
fi
slipway_prune_dev_dependencies
