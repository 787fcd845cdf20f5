# Slipway's gradle builder, used when the app's folder has no Dockerfile of its own. RUN steps run the scripts of the
# named build context "slipway" (components/buildspecs/image/); RUNTIME_VERSION, BUILD_COMMAND, START_COMMAND and
# PACKAGE_MANAGER arrive as build arguments.
ARG RUNTIME_VERSION=21
FROM public.ecr.aws/docker/library/gradle:jdk${RUNTIME_VERSION} AS build
WORKDIR /build/src
ARG BUILD_COMMAND=""
COPY . .
RUN --mount=type=bind,from=slipway,target=/slipway sh /slipway/gradle-build.sh
RUN --mount=type=bind,from=slipway,target=/slipway sh /slipway/jvm-collect.sh build build/libs/*.jar */build/libs/*.jar

FROM public.ecr.aws/docker/library/eclipse-temurin:${RUNTIME_VERSION}-jre
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build --chown=app:app /build/out/ /app/
COPY --from=slipway --chmod=0755 start.sh /usr/local/bin/slipway-start
ARG PORT=8080
ARG START_COMMAND=""
ENV PORT=${PORT} START_COMMAND="${START_COMMAND}"
EXPOSE ${PORT}
USER app
CMD ["/usr/local/bin/slipway-start", "gradle"]
