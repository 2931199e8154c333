"""Settings of the test project; the Redis comes from the environment the tests set.

``ANALYTICS_TEST_URL`` is the test server's URL, ``ANALYTICS_TEST_PREFIX`` the
prefix, and ``ANALYTICS_TEST_BAD`` replaces the settings with a wrong ``ANALYTICS``.
"""
import os

SECRET_KEY = "analytics-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "site_urls"
INSTALLED_APPS = ["analytics.contrib.django", "counting"]
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True

if os.environ.get("ANALYTICS_TEST_BAD"):
    ANALYTICS = {"backend": "analytics.backends.redis.Redis", "settings": {"hosts": [{"port": "six-three-seven-nine"}]}}
else:
    ANALYTICS_URL = os.environ["ANALYTICS_TEST_URL"]
    ANALYTICS_PREFIX = os.environ.get("ANALYTICS_TEST_PREFIX", "djangotests")
