# Slipway's python builder, used when the app's folder has no Dockerfile of its own. RUN steps run the scripts of the
# named build context "slipway" (components/buildspecs/image/); RUNTIME_VERSION, BUILD_COMMAND, START_COMMAND and
# PACKAGE_MANAGER arrive as build arguments.
ARG RUNTIME_VERSION=3.12
FROM public.ecr.aws/docker/library/python:${RUNTIME_VERSION}-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore POETRY_VIRTUALENVS_CREATE=false UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never
WORKDIR /build/src
ARG PACKAGE_MANAGER=""
ARG BUILD_COMMAND=""
COPY . .
RUN --mount=type=bind,from=slipway,target=/slipway sh /slipway/python-build.sh

FROM public.ecr.aws/docker/library/python:${RUNTIME_VERSION}-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin app
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=app:app /build/src /app
COPY --from=slipway --chmod=0755 start.sh /usr/local/bin/slipway-start
ARG PORT=8080
ARG START_COMMAND=""
ENV PORT=${PORT} START_COMMAND="${START_COMMAND}"
EXPOSE ${PORT}
USER app
CMD ["/usr/local/bin/slipway-start", "python"]
