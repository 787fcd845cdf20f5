#!/bin/sh
# The maven builder's build stage: BUILD_COMMAND, else the repository's Maven wrapper, else the image's Maven.
set -eu

if [ -n "${BUILD_COMMAND:-}" ]; then
  echo "Slipway: running $BUILD_COMMAND"
  sh -c "$BUILD_COMMAND"
elif [ -f mvnw ]; then
  chmod +x mvnw # archives may drop the executable bit
  ./mvnw --batch-mode package -DskipTests
else
  mvn --batch-mode package -DskipTests
fi
