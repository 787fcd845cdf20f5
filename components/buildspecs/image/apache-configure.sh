#!/bin/sh
# The php builder's final stage: Apache listens on ${PORT} and serves ${APACHE_DOCUMENT_ROOT}, which Apache reads
# from its environment when it starts (start.sh sets the document root from the app's layout). Laravel and Symfony
# route through public/.htaccess, hence AllowOverride.
set -eu

a2enmod rewrite
# shellcheck disable=SC2016 # ${PORT} and ${APACHE_DOCUMENT_ROOT} are Apache's variables, written as they are
sed -ri 's!^Listen 80$!Listen ${PORT}!' /etc/apache2/ports.conf
# shellcheck disable=SC2016
sed -ri -e 's!<VirtualHost \*:80>!<VirtualHost *:${PORT}>!' \
  -e 's!DocumentRoot /var/www/html$!DocumentRoot ${APACHE_DOCUMENT_ROOT}!' /etc/apache2/sites-available/000-default.conf
# shellcheck disable=SC2016
printf '%s\n' '<Directory ${APACHE_DOCUMENT_ROOT}>' '    AllowOverride All' '    Require all granted' '</Directory>' \
  >/etc/apache2/conf-available/slipway.conf
a2enconf slipway
