# Slipway's node builder, used when the app's folder has no Dockerfile of its own. RUN steps run the scripts of the
# named build context "slipway" (components/buildspecs/image/); RUNTIME_VERSION, BUILD_COMMAND, START_COMMAND and
# PACKAGE_MANAGER arrive as build arguments.
ARG RUNTIME_VERSION=22
FROM public.ecr.aws/docker/library/node:${RUNTIME_VERSION}-bookworm-slim AS build
WORKDIR /build/src
ARG PACKAGE_MANAGER=""
ARG BUILD_COMMAND=""
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0 NEXT_TELEMETRY_DISABLED=1
COPY . .
RUN --mount=type=bind,from=slipway,target=/slipway sh /slipway/node-build.sh

FROM public.ecr.aws/docker/library/node:${RUNTIME_VERSION}-bookworm-slim
ARG PACKAGE_MANAGER=""
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /build/src /app
RUN --mount=type=bind,from=slipway,target=/slipway sh /slipway/node-runtime.sh
COPY --from=slipway --chmod=0755 start.sh /usr/local/bin/slipway-start
ARG PORT=8080
ARG START_COMMAND=""
ENV PORT=${PORT} START_COMMAND="${START_COMMAND}"
EXPOSE ${PORT}
USER node
CMD ["/usr/local/bin/slipway-start", "node"]
