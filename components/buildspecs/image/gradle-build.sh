#!/bin/sh
# The gradle builder's build stage: BUILD_COMMAND, else the wrapper (or the image's Gradle) running Spring Boot's
# bootJar, the one jar to run, or else `assemble`, which builds every artifact without running checks.
set -eu

if [ -n "${BUILD_COMMAND:-}" ]; then
  echo "Slipway: running $BUILD_COMMAND"
  sh -c "$BUILD_COMMAND"
  exit 0
fi
gradle=gradle
if [ -f gradlew ]; then
  chmod +x gradlew # archives may drop the executable bit
  gradle=./gradlew
fi
task=assemble
if grep -qs org.springframework.boot build.gradle build.gradle.kts; then task=bootJar; fi
"$gradle" --no-daemon "$task"
