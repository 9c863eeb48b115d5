"""Settings: environment, .env, and the refusal of default secrets."""

from __future__ import annotations

import pytest

from excx.api.settings import DEV_SECRET, Settings, load_settings, read_env_file
from excx.errors import InputError

GOOD = "s" * 40


def test_environment_wins_over_env_file(tmp_path):
    env = tmp_path / ".env"
    env.write_text(
        "# service\nEXCX_STORE=postgresql://db/excx\n"
        f"export EXCX_SECRET_KEY='{GOOD}'\nEXCX_POOL_SIZE=8\nEXCX_BEHIND_TLS=yes\n"
    )
    settings = load_settings(env_file=env, environ={"EXCX_POOL_SIZE": "2"})
    assert settings.store == "postgresql://db/excx"
    assert settings.secret_key == GOOD
    assert settings.pool_size == 2 and settings.behind_tls is True
    assert load_settings(store="x.duckdb", env_file=env, environ={}).store == (
        "duckdb://x.duckdb"
    )


@pytest.mark.parametrize("secret", [None, "", DEV_SECRET, "short"])
def test_default_or_weak_secret_is_refused_unless_dev(tmp_path, secret):
    environ = {} if secret is None else {"EXCX_SECRET_KEY": secret}
    with pytest.raises(InputError, match="EXCX_SECRET_KEY"):
        load_settings(env_file=None, environ=environ)
    dev = load_settings(env_file=None, environ=environ, dev=True)
    assert dev.dev and dev.secret_key == (secret or DEV_SECRET)
    assert load_settings(env_file=None, environ=environ | {"EXCX_DEV": "1"}).dev


def test_create_app_checks_the_secret_too():
    from excx.api import create_app

    with pytest.raises(InputError):
        create_app(Settings(store="duckdb://:memory:", secret_key=DEV_SECRET))


def test_malformed_values_say_where(tmp_path):
    with pytest.raises(InputError, match="EXCX_POOL_SIZE='many'"):
        load_settings(
            env_file=None, environ={"EXCX_SECRET_KEY": GOOD, "EXCX_POOL_SIZE": "many"}
        )
    env = tmp_path / ".env"
    env.write_text("EXCX_DEV=1\nnot a setting\n")
    with pytest.raises(InputError, match=r"line 2"):
        read_env_file(env)
