# Slipway's ruby builder, used when the app's folder has no Dockerfile of its own. RUN steps run the scripts of the
# named build context "slipway" (components/buildspecs/image/); RUNTIME_VERSION, BUILD_COMMAND, START_COMMAND and
# PACKAGE_MANAGER arrive as build arguments.
ARG RUNTIME_VERSION=3.4
FROM public.ecr.aws/docker/library/ruby:${RUNTIME_VERSION}-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential git libpq-dev libyaml-dev pkg-config && rm -rf /var/lib/apt/lists/*
ENV BUNDLE_PATH=/usr/local/bundle BUNDLE_WITHOUT=development:test RAILS_ENV=production RACK_ENV=production
WORKDIR /build/src
ARG BUILD_COMMAND=""
COPY . .
RUN --mount=type=bind,from=slipway,target=/slipway sh /slipway/ruby-build.sh

FROM public.ecr.aws/docker/library/ruby:${RUNTIME_VERSION}-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 libyaml-0-2 && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin app
ENV BUNDLE_PATH=/usr/local/bundle BUNDLE_WITHOUT=development:test RAILS_ENV=production RACK_ENV=production
ENV RAILS_LOG_TO_STDOUT=1 RAILS_SERVE_STATIC_FILES=1
WORKDIR /app
COPY --from=build /usr/local/bundle /usr/local/bundle
COPY --from=build --chown=app:app /build/src /app
COPY --from=slipway --chmod=0755 start.sh /usr/local/bin/slipway-start
ARG PORT=8080
ARG START_COMMAND=""
ENV PORT=${PORT} START_COMMAND="${START_COMMAND}"
EXPOSE ${PORT}
USER app
CMD ["/usr/local/bin/slipway-start", "ruby"]
