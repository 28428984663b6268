"""Django settings for the orders API (production overrides in settings_prod.py)."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "6k!g2b4^1^=uah+%bijr(o-w!rlz3k356wc9q7l29^4_#vqwef"
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["api.harborlights.gg", "localhost"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "orders",
        "USER": "orders_app",
        "PASSWORD": "ujGOMvLbMqq9vhoeRK9zMmbxNAcGpeZ4",
        "HOST": "orders-db.internal",
        "PORT": "5432",
    },
    "replica": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "orders",
        "USER": "orders_ro",
        "PASSWORD": os.environ["REPLICA_DB_PASSWORD"],
        "HOST": "orders-db-ro.internal",
    },
}

CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "rediss://default:HiFrdCY4OQlIuOIvFQN4@redis-17402.c250.eu-central-1-1.ec2.redns.redis-cloud.com:17402/1"}}
CELERY_BROKER_URL = "amqps://worker:KMmM7fYkeRCylnQqlcH8@b-7d1e.mq.eu-west-1.amazonaws.com:5671/%2F"

AWS_ACCESS_KEY_ID = "AKIAOE3OFDXWWWYLJKQ5"
AWS_SECRET_ACCESS_KEY = "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"
AWS_STORAGE_BUCKET_NAME = "harbor-orders-exports"
AWS_S3_REGION_NAME = "eu-west-1"

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "smtp.sendgrid.net"
EMAIL_HOST_USER = "apikey"
EMAIL_HOST_PASSWORD = "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"

SENTRY_DSN = "https://f8662787d80af187fd88ff7799f72dbb@o253043.ingest.sentry.io/7739920"
STRIPE_API_KEY = os.getenv("STRIPE_API_KEY", "")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
PASSWORD_RESET_TIMEOUT = 3600
CSRF_COOKIE_NAME = "orders_csrftoken"
SESSION_COOKIE_AGE = 1209600
