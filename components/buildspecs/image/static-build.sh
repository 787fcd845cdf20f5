#!/bin/sh
# The static builder's build stage: the folder as it is, or, with BUILD_COMMAND, the first of the usual output
# folders holding an index.html after it ran. The site goes to ../site.
set -eu
# shellcheck source=node-package-manager.sh
. "$(dirname "$0")/node-package-manager.sh"
mkdir -p ../site

if [ -z "${BUILD_COMMAND:-}" ]; then
  cp -a . ../site/
  exit 0
fi
if [ -f package.json ]; then slipway_install_node_dependencies; fi
echo "Slipway: running $BUILD_COMMAND"
sh -c "$BUILD_COMMAND"
out=""
for dir in dist build out public _site; do
  if [ -f "$dir/index.html" ]; then
    out="$dir"
    break
  fi
done
if [ -z "$out" ]; then
  echo "Slipway: the build command left no index.html in dist/, build/, out/, public/, _site/" >&2
  exit 1
fi
echo "Slipway: serving $out/"
cp -a "$out/." ../site/
