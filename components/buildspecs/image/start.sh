#!/bin/sh
# Usage: slipway-start <builder>   (the image's CMD)
# Starts the app: START_COMMAND when the deployment has one (through a shell, so it may use $PORT), otherwise the
# builder's default for the app's files.
set -eu

if [ -n "${START_COMMAND:-}" ]; then exec /bin/sh -c "$START_COMMAND"; fi

case "${1:-}" in
  maven | gradle)
    # JAVA_OPTS holds several options: it is split into words on purpose.
    # shellcheck disable=SC2086
    exec java -XX:MaxRAMPercentage=75 ${JAVA_OPTS:-} -Dserver.port="$PORT" -jar /app/app.jar
    ;;
  node)
    exec npm start
    ;;
  python)
    # Django under gunicorn when both are there (gunicorn binds 0.0.0.0:$PORT by itself), else the usual scripts.
    if [ -f manage.py ] && command -v gunicorn >/dev/null; then
      for wsgi in */wsgi.py; do
        if [ -f "$wsgi" ]; then exec gunicorn "${wsgi%/wsgi.py}.wsgi"; fi
      done
    fi
    for script in main.py app.py server.py; do
      if [ -f "$script" ]; then exec python "$script"; fi
    done
    echo "Slipway: no start command, and no main.py, app.py or server.py to run; set the start command" >&2
    exit 1
    ;;
  go)
    exec /usr/local/bin/app
    ;;
  rust)
    # Rocket reads its address and port from these; other frameworks read PORT.
    export ROCKET_ADDRESS="${ROCKET_ADDRESS:-0.0.0.0}" ROCKET_PORT="${ROCKET_PORT:-$PORT}"
    exec /usr/local/bin/app
    ;;
  ruby)
    # Rails' server, else Puma when the bundle has it, else rackup.
    if [ -f bin/rails ]; then exec bundle exec rails server -b 0.0.0.0 -p "$PORT"; fi
    if grep -qs "^    puma " Gemfile.lock; then exec bundle exec puma -b "tcp://0.0.0.0:$PORT"; fi
    exec bundle exec rackup --host 0.0.0.0 --port "$PORT"
    ;;
  php)
    # Apache serves public/ when the app has one (Laravel, Symfony), else the app's root.
    if [ -d public ]; then
      APACHE_DOCUMENT_ROOT=/var/www/html/public
    else
      APACHE_DOCUMENT_ROOT=/var/www/html
    fi
    export APACHE_DOCUMENT_ROOT
    exec apache2-foreground
    ;;
  *)
    echo "Slipway: slipway-start does not know the builder '${1:-}'" >&2
    exit 1
    ;;
esac
