#!/bin/sh
# The rust builder's build stage: cargo build --release (locked when there is a Cargo.lock), then the package's
# binary, or the single binary the build made, becomes ../bin/app; target/ goes, the app's other files stay.
# With BUILD_COMMAND the app builds itself and must say what to start.
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

if [ -f Cargo.lock ]; then cargo build --release --locked; else cargo build --release; fi
name="$(sed -n '/^\[package\]/,/^\[/s/^name *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)"
if [ -n "$name" ] && [ -f "target/release/$name" ]; then
  binary="target/release/$name"
else
  binaries="$(find target/release -maxdepth 1 -type f -perm -u+x ! -name '*.so' ! -name '*.d' | sort)"
  count="$(printf '%s' "$binaries" | grep -c . || true)"
  if [ "$count" -ne 1 ]; then
    echo "Slipway: cannot tell which binary to run: Cargo.toml's package is '$name' and target/release holds $count: $(printf '%s' "$binaries" | tr '\n' ' '); set the start command" >&2
    exit 1
  fi
  binary="$binaries"
fi
echo "Slipway: running $binary"
cp "$binary" ../bin/app
rm -rf target
