#!/bin/sh
# The ruby builder's build stage: the bundle (in deployment mode with a lockfile: exactly the lockfile; the setting
# travels in .bundle/config), then BUILD_COMMAND with the dummy secret key Rails' asset precompilation needs.
set -eu

if [ -f Gemfile.lock ]; then bundle config set --local deployment true; fi
bundle install --jobs 4 --retry 3
if [ -n "${BUILD_COMMAND:-}" ]; then
  echo "Slipway: running $BUILD_COMMAND"
  SECRET_KEY_BASE_DUMMY=1 sh -c "$BUILD_COMMAND"
fi
