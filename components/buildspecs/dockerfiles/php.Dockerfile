# Slipway's php builder, used when the app's folder has no Dockerfile of its own. RUN steps run the scripts of the
# named build context "slipway" (components/buildspecs/image/); RUNTIME_VERSION, BUILD_COMMAND, START_COMMAND and
# PACKAGE_MANAGER arrive as build arguments.
ARG RUNTIME_VERSION=8.3
FROM public.ecr.aws/docker/library/php:${RUNTIME_VERSION}-apache AS base
RUN docker-php-ext-install -j"$(nproc)" pdo_mysql

FROM base AS build
RUN apt-get update && apt-get install -y --no-install-recommends git unzip && rm -rf /var/lib/apt/lists/*
COPY --from=public.ecr.aws/docker/library/composer:2 /usr/bin/composer /usr/local/bin/composer
ENV COMPOSER_ALLOW_SUPERUSER=1 COMPOSER_NO_INTERACTION=1
WORKDIR /build/src
ARG BUILD_COMMAND=""
COPY . .
RUN --mount=type=bind,from=slipway,target=/slipway sh /slipway/php-build.sh

FROM base
RUN --mount=type=bind,from=slipway,target=/slipway sh /slipway/apache-configure.sh
ENV APACHE_DOCUMENT_ROOT=/var/www/html
WORKDIR /var/www/html
COPY --from=build --chown=www-data:www-data /build/src /var/www/html
# The image already lets www-data write Apache's run, lock and log folders; 8080 needs no root.
COPY --from=slipway --chmod=0755 start.sh /usr/local/bin/slipway-start
ARG PORT=8080
ARG START_COMMAND=""
ENV PORT=${PORT} START_COMMAND="${START_COMMAND}"
EXPOSE ${PORT}
USER www-data
CMD ["/usr/local/bin/slipway-start", "php"]
