# shellcheck shell=sh
# Sourced by the node and static builders' scripts: which Node.js package manager the app uses, how it installs and
# how it drops devDependencies. Sets `pm`.

# PACKAGE_MANAGER when given; otherwise the first lockfile found decides, npm when there is none.
slipway_choose_package_manager() {
  pm="${PACKAGE_MANAGER:-}"
  if [ -z "$pm" ]; then
    if [ -f pnpm-lock.yaml ]; then
      pm=pnpm
    elif [ -f yarn.lock ]; then
      pm=yarn
    elif [ -f bun.lock ] || [ -f bun.lockb ]; then
      pm=bun
    else
      pm=npm
    fi
  fi
  case "$pm" in
    pnpm | yarn | bun | npm) ;;
    *)
      echo "Slipway: PACKAGE_MANAGER must be one of pnpm, yarn, bun, npm, got '$pm'" >&2
      exit 1
      ;;
  esac
}

# Installs everything the build needs, following the lockfile exactly when there is one.
slipway_install_node_dependencies() {
  slipway_choose_package_manager
  echo "Slipway: installing dependencies with $pm"
  # Corepack first (it honours package.json's packageManager version), then one already on the image (Yarn 1 ships
  # with it), then a global npm install (bun, and Node.js releases without Corepack).
  if [ "$pm" != npm ]; then
    corepack enable "$pm" 2>/dev/null || command -v "$pm" >/dev/null || npm install --global "$pm"
  fi
  case "$pm" in
    pnpm)
      if [ -f pnpm-lock.yaml ]; then pnpm install --frozen-lockfile; else pnpm install; fi
      ;;
    yarn)
      # Yarn 2+ (a .yarnrc.yml) renamed the flag.
      if [ ! -f yarn.lock ]; then
        yarn install
      elif [ -f .yarnrc.yml ]; then
        yarn install --immutable
      else
        yarn install --frozen-lockfile
      fi
      ;;
    bun)
      if [ -f bun.lock ] || [ -f bun.lockb ]; then bun install --frozen-lockfile; else bun install; fi
      ;;
    npm)
      if [ -f package-lock.json ] || [ -f npm-shrinkwrap.json ]; then npm ci; else npm install; fi
      ;;
  esac
}

# Drops devDependencies after the build; where that may fail harmlessly, a failure keeps them.
slipway_prune_dev_dependencies() {
  case "$pm" in
    pnpm)
      pnpm prune --prod || slipway_keep_dev_dependencies
      ;;
    yarn)
      # `workspaces focus` needs a plugin before Yarn 4.
      if [ -f .yarnrc.yml ]; then
        yarn workspaces focus --all --production || slipway_keep_dev_dependencies
      else
        yarn install --production --ignore-scripts --prefer-offline
      fi
      ;;
    bun)
      rm -rf node_modules && bun install --production
      ;;
    npm)
      npm prune --omit=dev
      ;;
  esac
}

slipway_keep_dev_dependencies() {
  echo "Slipway: could not drop devDependencies; keeping them" >&2
}
