#!/bin/sh
# The node builder's final stage, in /app: a start command may call the package manager, so it is installed now,
# not on the first start.
set -eu
# shellcheck source=node-package-manager.sh
. "$(dirname "$0")/node-package-manager.sh"

slipway_choose_package_manager
if [ "$pm" != npm ] && ! command -v "$pm" >/dev/null; then
  npm install --global "$pm"
  rm -rf /root/.npm
fi
