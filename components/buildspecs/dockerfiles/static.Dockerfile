# Slipway's static builder, used when the app's folder has no Dockerfile of its own. RUN steps run the scripts of the
# named build context "slipway" (components/buildspecs/image/); RUNTIME_VERSION, BUILD_COMMAND, START_COMMAND and
# PACKAGE_MANAGER arrive as build arguments.
ARG RUNTIME_VERSION=22
FROM public.ecr.aws/docker/library/node:${RUNTIME_VERSION}-bookworm-slim AS build
WORKDIR /build/src
ARG PACKAGE_MANAGER=""
ARG BUILD_COMMAND=""
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0
COPY . .
RUN --mount=type=bind,from=slipway,target=/slipway sh /slipway/static-build.sh

FROM public.ecr.aws/docker/library/nginx:stable-alpine
RUN --mount=type=bind,from=slipway,target=/slipway sh /slipway/nginx-configure.sh
COPY --from=build --chown=nginx:nginx /build/site/ /usr/share/nginx/html/
ARG PORT=8080
ENV PORT=${PORT}
EXPOSE ${PORT}
USER nginx
# The image's entrypoint renders the templates only when the command is nginx itself; a static site has no start
# command of its own.
CMD ["nginx", "-g", "daemon off;"]
