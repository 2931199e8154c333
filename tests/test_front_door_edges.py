"""Issue 14, A and B: ``import_string(silent=True)`` and the front door's settings checks."""
import pytest

import analytics
from analytics.backends.dummy import Dummy
from analytics.errors import ConfigurationError
from analytics.utils import import_string


@pytest.mark.parametrize("path", ["analytics.nowhere", "nowhere_at_all", "analytics.backends.redis.Nope",
                                  "", "..relative", "os..path"])
def test_import_string_silent_returns_none_for_what_cannot_be_imported(path):
    assert import_string(path, silent=True) is None
    with pytest.raises(ImportError):
        import_string(path)


def test_import_string_silent_still_imports():
    assert import_string("analytics.backends.dummy.Dummy", silent=True) is Dummy


def test_import_string_silent_does_not_hide_a_non_string():
    with pytest.raises(TypeError):
        import_string(None, silent=True)


def test_missing_backend_is_a_key_error_and_a_configuration_error():
    with pytest.raises(KeyError) as caught:
        analytics.create_analytic_backend({"settings": {}})
    assert isinstance(caught.value, ConfigurationError) and isinstance(caught.value, ValueError)
    # Not KeyError's quoted repr of the message.
    assert str(caught.value) == "settings has no 'backend' (e.g. 'analytics.backends.redis.Redis')"


def test_unknown_top_level_keys_are_refused_by_name():
    with pytest.raises(ConfigurationError) as caught:
        analytics.create_analytic_backend({"backend": "analytics.backends.dummy.Dummy", "settings": {},
                                           "hosts": [], "prefx": "p"})
    assert "'hosts'" in str(caught.value) and "'prefx'" in str(caught.value)


def test_the_allowed_top_level_keys_are_one_constant():
    assert set(analytics.FRONT_DOOR_KEYS) == {"backend", "settings", "prefix", "hours", "years", "timezone", "retention"}


def test_prefix_goes_to_the_backend():
    backend = analytics.create_analytic_backend({"backend": "analytics.backends.dummy.Dummy", "settings": {},
                                                 "prefix": "myapp"})
    assert backend._prefix == "myapp"
    assert analytics.create_analytic_backend({"backend": Dummy})._prefix == "_analytics"


def test_prefix_reaches_the_redis_backend(three_hosts):
    backend = analytics.create_analytic_backend({"backend": "analytics.backends.redis.Redis",
                                                 "settings": three_hosts, "prefix": "myapp"})
    backend.track_count("u", "m")
    assert backend.get_backend().get("myapp:analy:u:count:m") == "1"
    backend.store.close()
