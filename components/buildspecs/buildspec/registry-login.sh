#!/usr/bin/env bash
# pre_build: log Docker in to ECR Public, where the base images come from, and to the stack's ECR repository.
# Anonymous pulls from ECR Public are rate-limited per source IP, which CodeBuild's fleet shares; an authenticated
# pull gets the account's own limit. ECR Public's tokens come from us-east-1 whatever the build's region, and need
# ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken on the build role
# (https://docs.aws.amazon.com/AmazonECR/latest/public/public-registry-auth.html,
# https://docs.aws.amazon.com/cli/latest/reference/ecr-public/get-login-password.html).
set -euo pipefail
slipway_fail() {
  echo "Slipway: $*" >&2
  exit 1
}

aws ecr-public get-login-password --region us-east-1 |
  docker login --username AWS --password-stdin public.ecr.aws ||
  slipway_fail "could not log in to ECR Public (public.ecr.aws), where the base images come from"
aws ecr get-login-password --region "$AWS_REGION" |
  docker login --username AWS --password-stdin "${IMAGE_REPOSITORY_URI%%/*}" ||
  slipway_fail "could not log in to the image repository's registry ${IMAGE_REPOSITORY_URI%%/*}"
