# Minimal Django settings for the Django Channels peer (bench/compare.sh):
# Daphne serving one WebSocket consumer, channels-redis as the channel layer
# (the stack Parley replaces). The Redis port comes from the environment.
import os

SECRET_KEY = "parley-bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["channels"]
ASGI_APPLICATION = "channels_app.asgi.application"
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [("127.0.0.1", int(os.environ.get("BENCH_REDIS_PORT", "6379")))],
            # The default (100 per channel) drops messages under load.
            "capacity": 100000,
        },
    }
}
LOGGING_CONFIG = None
