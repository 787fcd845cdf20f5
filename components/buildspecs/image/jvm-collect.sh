#!/bin/sh
# Usage: jvm-collect.sh <build folder> <jar>...   (the jars as the Dockerfile's shell expanded its globs)
# Copies the runnable application to ../out/app.jar: Quarkus's fast-jar folder as a whole, otherwise the one jar
# (sources, javadoc, test and plain jars aside) whose manifest names a Main-Class.
set -eu
build_dir="$1"
shift
mkdir -p ../out

if [ -f "$build_dir/quarkus-app/quarkus-run.jar" ]; then
  cp -a "$build_dir/quarkus-app/." ../out/
  ln -s quarkus-run.jar ../out/app.jar
  exit 0
fi

workdir="$PWD"
examined=""
runnable=""
count=0
for jar in "$@"; do
  [ -f "$jar" ] || continue
  examined="$examined $jar"
  case "$jar" in
    *-sources.jar | *-javadoc.jar | *-tests.jar | *-test-fixtures.jar | *-plain.jar | */original-*.jar) continue ;;
  esac
  manifest="$(mktemp -d)"
  (cd "$manifest" && jar xf "$workdir/$jar" META-INF/MANIFEST.MF) || true
  if grep -qi "^Main-Class:" "$manifest/META-INF/MANIFEST.MF" 2>/dev/null; then
    runnable="$runnable $jar"
    count=$((count + 1))
    app="$jar"
  fi
  rm -rf "$manifest"
done

if [ "$count" -eq 0 ]; then
  echo "Slipway: the build made no runnable jar (one whose manifest has a Main-Class); jars found:${examined:- none}" >&2
  exit 1
fi
if [ "$count" -gt 1 ]; then
  echo "Slipway: the build made several runnable jars (${runnable# }); deploy one module by setting the root directory" >&2
  exit 1
fi
echo "Slipway: the app is $app"
cp "$app" ../out/app.jar
