# Slipway's go builder, used when the app's folder has no Dockerfile of its own. RUN steps run the scripts of the
# named build context "slipway" (components/buildspecs/image/); RUNTIME_VERSION, BUILD_COMMAND, START_COMMAND and
# PACKAGE_MANAGER arrive as build arguments.
ARG RUNTIME_VERSION=1
FROM public.ecr.aws/docker/library/golang:${RUNTIME_VERSION}-alpine AS build
ENV CGO_ENABLED=0
WORKDIR /build/src
ARG BUILD_COMMAND=""
ARG START_COMMAND=""
COPY . .
RUN --mount=type=bind,from=slipway,target=/slipway sh /slipway/go-build.sh

FROM public.ecr.aws/docker/library/alpine:3
RUN apk add --no-cache ca-certificates tzdata && adduser -D -H -u 10001 -s /sbin/nologin app
WORKDIR /app
COPY --from=build --chown=app:app /build/src /app
COPY --from=build /build/bin/ /usr/local/bin/
COPY --from=slipway --chmod=0755 start.sh /usr/local/bin/slipway-start
ARG PORT=8080
ARG START_COMMAND=""
ENV PORT=${PORT} START_COMMAND="${START_COMMAND}"
EXPOSE ${PORT}
USER app
CMD ["/usr/local/bin/slipway-start", "go"]
