import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "change-me")
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "blog.urls"
INSTALLED_APPS = ["django.contrib.contenttypes"]
WSGI_APPLICATION = "blog.wsgi.application"
