#!/usr/bin/env bash
# `aws` in a local build (npm start -- --run-builds): Slipway's stand-in, first on the build's PATH, so a build never
# reaches an AWS account, whatever CLI and credentials this machine has. It answers the two calls the buildspecs make,
# as the AWS CLI documents them, with the local registries' passwords, and refuses everything else:
#   aws ecr get-login-password --region <region>        (https://docs.aws.amazon.com/cli/latest/reference/ecr/get-login-password.html)
#   aws ecr-public get-login-password --region us-east-1 (ECR Public's API is only in us-east-1:
#     https://docs.aws.amazon.com/cli/latest/reference/ecr-public/get-login-password.html)
set -euo pipefail

region=""
args=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --region)
      region="${2:-}"
      shift 2 || shift
      ;;
    --region=*)
      region="${1#--region=}"
      shift
      ;;
    *)
      args+=("$1")
      shift
      ;;
  esac
done

case "${args[*]}" in
  "ecr get-login-password")
    [ -n "$region" ] || {
      echo "You must specify a region. You can also configure your region by running \"aws configure\"." >&2
      exit 253
    }
    printf '%s\n' "$SLIPWAY_REGISTRY_PASSWORD"
    ;;
  "ecr-public get-login-password")
    if [ "$region" != us-east-1 ]; then
      echo "Could not connect to the endpoint URL: \"https://api.ecr-public.${region:-<no region>}.amazonaws.com/\" (ECR Public is only in us-east-1)" >&2
      exit 255
    fi
    printf '%s\n' "$SLIPWAY_PUBLIC_REGISTRY_PASSWORD"
    ;;
  *)
    echo "Slipway (local build): 'aws ${args[*]}' is not available here; local builds reach no AWS account. The buildspecs only run 'aws ecr get-login-password' and 'aws ecr-public get-login-password'." >&2
    exit 255
    ;;
esac
