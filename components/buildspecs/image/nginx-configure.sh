#!/bin/sh
# The static builder's final stage: nginx runs as its own unprivileged user (no `user` switch; pid and caches where
# it may write), and serves the site on ${PORT} through a template, which the nginx image's entrypoint renders with
# the container's environment at start. Client-side routes of single-page apps fall back to index.html.
set -eu

sed -i -e '/^user /d' -e 's!^pid .*!pid /tmp/nginx.pid;!' /etc/nginx/nginx.conf
rm -f /etc/nginx/conf.d/default.conf
mkdir -p /etc/nginx/templates
# shellcheck disable=SC2016 # ${PORT} is the template's variable and $uri nginx's, written as they are
printf '%s\n' \
  'server {' \
  '    listen ${PORT};' \
  '    root /usr/share/nginx/html;' \
  '    location / { try_files $uri $uri/ $uri.html /index.html; }' \
  '}' >/etc/nginx/templates/default.conf.template
chown -R nginx:nginx /var/cache/nginx /etc/nginx/conf.d
