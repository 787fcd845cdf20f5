#!/bin/sh
# The go builder's build stage: one static binary in ../bin/app, from the root package when it is `main`, else from
# the single main package below it. With BUILD_COMMAND the app builds itself and must say what to start.
set -eu
mkdir -p ../bin

if [ -n "${BUILD_COMMAND:-}" ]; then
  if [ -z "${START_COMMAND:-}" ]; then
    echo "Slipway: a build command is set but no start command; set the start command to the program the build makes" >&2
    exit 1
  fi
  echo "Slipway: running $BUILD_COMMAND"
  sh -c "$BUILD_COMMAND"
  exit 0
fi

if [ "$(go list -f '{{.Name}}' . 2>/dev/null)" = main ]; then
  package=.
else
  mains="$(go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./... | grep . || true)"
  count="$(printf '%s' "$mains" | grep -c . || true)"
  if [ "$count" -ne 1 ]; then
    echo "Slipway: expected one main package, found $count: $(printf '%s' "$mains" | tr '\n' ' '); set the root directory to the app, or the build and start commands" >&2
    exit 1
  fi
  package="$mains"
fi
echo "Slipway: building $package"
go build -trimpath -ldflags="-s -w" -o ../bin/app "$package"
