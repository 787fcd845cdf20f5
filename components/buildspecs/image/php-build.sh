#!/bin/sh
# The php builder's build stage: Composer without dev dependencies, then BUILD_COMMAND.
set -eu

if [ -f composer.json ]; then composer install --no-dev --prefer-dist --optimize-autoloader --no-progress; fi
if [ -n "${BUILD_COMMAND:-}" ]; then
  echo "Slipway: running $BUILD_COMMAND"
  sh -c "$BUILD_COMMAND"
fi
