"""Settings come from the environment; bad values are refused naming the variable."""

from __future__ import annotations

import pytest

from gridpoints.settings import SettingsError, load_settings


def test_the_embedded_default_is_sqlite_and_a_kept_secret_under_var(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.uses_sqlite
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'gridpoints.sqlite3'}"
    assert settings.redis_url is None
    assert load_settings(environ={}).secret_key == settings.secret_key
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert load_settings(environ={}).audit_key == settings.audit_key != settings.secret_key
    assert (tmp_path / "var" / "audit_key").stat().st_mode & 0o777 == 0o600
    assert settings.trusted_proxies == (), "no proxy is trusted by default"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "GRIDPOINTS_AUDIT_KEY"])
def test_postgresql_refuses_to_start_without_its_keys_naming_the_variable(tmp_path, missing):
    environ = {
        "DATABASE_URL": "postgres://u@db:5432/gp",
        "GRIDPOINTS_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "k" * 40,
        "GRIDPOINTS_AUDIT_KEY": "a" * 40,
    }
    del environ[missing]
    with pytest.raises(SettingsError, match=missing):
        load_settings(environ=environ)
    assert not (tmp_path / "secret_key").exists()
    assert not (tmp_path / "audit_key").exists()


def test_every_variable_is_read(tmp_path):
    settings = load_settings(
        environ={
            "DATABASE_URL": "postgresql://u@db:5432/gp",
            "REDIS_URL": "redis://r:6379/1",
            "SECRET_KEY": "k" * 40,
            "GRIDPOINTS_AUDIT_KEY": "a" * 40,
            "GRIDPOINTS_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/24",
            "GRIDPOINTS_REDIS_PREFIX": "east",
            "GRIDPOINTS_VAR_DIR": str(tmp_path),
            "GRIDPOINTS_TOKEN_TTL_SECONDS": "60",
            "GRIDPOINTS_ORG_LEVEL_NAMES": "区, 街道, 社区, 网格",
            "GRIDPOINTS_COMMUNITY_LEVEL_NAME": "社区",
            "GRIDPOINTS_LOGIN_LIMIT_PER_PHONE": "3/minute",
            "GRIDPOINTS_JOB_TIMEOUT_SECONDS": "30",
            "GRIDPOINTS_JOB_QUEUE": "q",
        }
    )
    assert settings.database_url == "postgres://u@db:5432/gp"
    assert not settings.uses_sqlite
    assert settings.redis_url == "redis://r:6379/1"
    assert settings.secret_key == "k" * 40
    assert not (tmp_path / "secret_key").exists(), "SECRET_KEY set: nothing is generated"
    assert settings.audit_key == "a" * 40
    assert not (tmp_path / "audit_key").exists()
    assert settings.trusted_proxies == ("10.0.0.1", "192.168.0.0/24")
    assert settings.redis_prefix == "east"
    assert settings.token_ttl_seconds == 60
    assert settings.org_level_names == ("区", "街道", "社区", "网格")
    assert settings.community_level == 2
    assert settings.login_limit_per_phone == "3/minute"
    assert (settings.job_timeout_seconds, settings.job_queue_name) == (30, "q")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GRIDPOINTS_TOKEN_TTL_SECONDS", "soon"),
        ("GRIDPOINTS_JOB_TIMEOUT_SECONDS", "0"),
        ("DATABASE_URL", "mysql://x/y"),
        ("GRIDPOINTS_COMMUNITY_LEVEL_NAME", "乡镇"),
        ("GRIDPOINTS_TRUSTED_PROXIES", "proxy.internal"),
        ("GRIDPOINTS_PHOTO_MAX_PIXELS", "0"),
    ],
)
def test_a_bad_value_names_its_variable(tmp_path, variable, value):
    environ = {"GRIDPOINTS_VAR_DIR": str(tmp_path), "SECRET_KEY": "s" * 40, variable: value}
    with pytest.raises(SettingsError, match=variable):
        load_settings(environ=environ)
