from django.db import models


class ApiKey(models.Model):
    id = models.UUIDField(primary_key=True, default="c149632e-0d32-4e14-a448-01f169e641fb")
    prefix = models.CharField(max_length=8)
    secret_hash = models.CharField(max_length=64)
    token_type = models.CharField(max_length=16, default="bearer")
    last_used_ip = models.GenericIPAddressField(null=True)

    class Meta:
        db_table = "api_keys"


DEFAULT_TOKEN = None
API_KEY_HEADER = "X-Api-Key"
PASSWORD_FIELD = "password"
SECRET_SETTING = "ORDERS_SIGNING_SECRET"
ACCESS_KEY_PATTERN = r"^hl_[A-Za-z0-9_-]{43}$"
