"""The worker threads, the options cache and the settings cache of the Python host;
no server needed."""

import threading
import time

import pytest

from traitlets.config import Config

from conftest import OPTION_NAMES, Spawner, User
from ldap_hooks import LDAP
from ldap_hooks import hook as hook_module
from ldap_hooks import settings as settings_module
from ldap_hooks.errors import ConfigurationError
from ldap_hooks.hook import _Threads


def test_threads_reuse_one_for_sequential_calls():
    threads = _Threads(8, "test-threads")
    names = {threads.submit(lambda: threading.current_thread().name).result(timeout=5) for _ in range(200)}
    threads.shutdown()
    assert len(names) == 1, names


def test_threads_start_up_to_the_limit():
    threads = _Threads(3, "test-threads")
    release = threading.Event()
    started = []

    def blocked() -> str:
        started.append(threading.current_thread().name)
        release.wait(5)
        return threading.current_thread().name

    futures = [threads.submit(blocked) for _ in range(6)]
    deadline = time.monotonic() + 5
    while len(started) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    # Three threads run; the other three calls wait instead of starting threads.
    assert len(started) == 3
    release.set()
    names = {future.result(timeout=5) for future in futures}
    threads.shutdown()
    assert len(names) == 3, names


def test_threads_hand_over_exceptions():
    threads = _Threads(1, "test-threads")

    def failing() -> None:
        raise ValueError("the call failed")

    with pytest.raises(ValueError, match="the call failed"):
        threads.submit(failing).result(timeout=5)
    assert threads.submit(lambda: 42).result(timeout=5) == 42
    threads.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        threads.submit(lambda: None)


@pytest.fixture
def options():
    saved = {name: LDAP.__dict__[name] for name in OPTION_NAMES if name in LDAP.__dict__}
    LDAP.url = "ldap://127.0.0.1:389"
    LDAP.submit_spawner_attribute = "user_options"
    LDAP.object_attributes = {"cn": "{cn}"}
    LDAP.worker_threads = 4
    yield LDAP
    for name in OPTION_NAMES:
        if name in saved:
            setattr(LDAP, name, saved[name])


def test_settings_cache_keeps_unchanged_settings(options):
    first = settings_module.read_cached(LDAP())
    assert settings_module.read_cached(LDAP()) is first


def test_settings_cache_notices_changed_option(options):
    first = settings_module.read_cached(LDAP())
    LDAP.url = "ldap://127.0.0.1:390"
    second = settings_module.read_cached(LDAP())
    assert second.connection.url == "ldap://127.0.0.1:390"
    assert second is not first


def test_settings_cache_notices_dict_changed_in_place(options):
    first = settings_module.read_cached(LDAP())
    LDAP.object_attributes["sn"] = "{sn}"
    second = settings_module.read_cached(LDAP())
    assert second.hook_key != first.hook_key


def test_settings_cache_rejects_bad_option(options):
    settings_module.read_cached(LDAP())
    LDAP.worker_threads = 0
    with pytest.raises(ConfigurationError, match="LDAP.worker_threads is 0"):
        settings_module.read_cached(LDAP())


def test_options_reused_for_unchanged_config():
    config = Config()
    config.LDAP.base_dn = "dc=first,dc=org"
    first = hook_module._options(Spawner(User("alice"), config=config))
    second = hook_module._options(Spawner(User("bob"), config=config))
    assert second is first
    assert second.base_dn == "dc=first,dc=org"


def test_options_follow_config_changed_in_place():
    config = Config()
    config.LDAP.base_dn = "dc=first,dc=org"
    assert hook_module._options(Spawner(User("alice"), config=config)).base_dn == "dc=first,dc=org"
    config.LDAP.base_dn = "dc=second,dc=org"
    assert hook_module._options(Spawner(User("alice"), config=config)).base_dn == "dc=second,dc=org"
