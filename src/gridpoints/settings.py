"""The platform's configuration: one msgspec Struct read from the environment.

Every command (`serve`, `worker`, `migrate`, `demo`, ...) calls `load_settings()`, so they
all see the same database, Redis and secret. Each field's environment variable is listed in
`ENVIRONMENT` and documented in the README.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import msgspec

from gridpoints.activities.vocab import DEFAULT_CATEGORY_LABELS as DEFAULT_ACTIVITY_CATEGORIES

Positive = Annotated[int, msgspec.Meta(gt=0)]
DEFAULT_LEVEL_NAMES = ("街道", "社区", "片区", "小区", "楼栋", "单元")


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    var_dir: Path
    database_url: str
    redis_url: str | None = None
    secret_key: str
    token_ttl_seconds: Positive = 8 * 3600
    token_audience: str = "gridpoints"
    timezone: str = "Asia/Shanghai"
    org_level_names: tuple[str, ...] = DEFAULT_LEVEL_NAMES
    community_level_name: str = "社区"
    login_limit_per_phone: str = "5/minute"
    login_limit_per_address: str = "30/minute"
    job_timeout_seconds: Positive = 600
    job_queue_name: str = "gridpoints:jobs"
    db_pool_min_size: Positive = 1
    db_pool_max_size: Positive = 10
    sqlite_busy_timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    upload_max_bytes: Positive = 10 * 1024 * 1024
    activity_categories: tuple[str, ...] = tuple(DEFAULT_ACTIVITY_CATEGORIES)
    checkin_slot_seconds: Positive = 30
    checkin_grace_minutes: Annotated[int, msgspec.Meta(ge=0)] = 30
    checkin_max_queue_hours: Positive = 24
    checkin_max_speed_kmh: Positive = 120
    checkin_auto_close_hours: Positive = 3
    photo_max_bytes: Positive = 5 * 1024 * 1024
    uploads_dir_setting: str = ""
    scoring_rules_dir_setting: str = ""

    @property
    def uploads_dir(self) -> Path:
        """Evidence photos: GRIDPOINTS_UPLOADS_DIR, or `uploads/` in the var folder."""
        return (
            Path(self.uploads_dir_setting) if self.uploads_dir_setting else self.var_dir / "uploads"
        )

    @property
    def scoring_rules_dir(self) -> Path:
        """Rule set files: GRIDPOINTS_SCORING_RULES_DIR, or the shipped `scoring_rules/`."""
        if self.scoring_rules_dir_setting:
            return Path(self.scoring_rules_dir_setting)
        from gridpoints.paths import resource_dir

        return resource_dir("scoring_rules")

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def community_level(self) -> int:
        """The tree level (0 = root) whose units are communities."""
        return self.org_level_names.index(self.community_level_name)

    def level_name(self, level: int) -> str:
        """The default name of a tree level; deeper levels than configured are numbered."""
        if level < len(self.org_level_names):
            return self.org_level_names[level]
        return f"{level + 1}级网格"

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.split("://", 1)[1].removeprefix("/") or "gridpoints.sqlite3")


# field name -> environment variable
ENVIRONMENT = {
    "var_dir": "GRIDPOINTS_VAR_DIR",
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "secret_key": "SECRET_KEY",
    "token_ttl_seconds": "GRIDPOINTS_TOKEN_TTL_SECONDS",
    "token_audience": "GRIDPOINTS_TOKEN_AUDIENCE",
    "timezone": "GRIDPOINTS_TIMEZONE",
    "org_level_names": "GRIDPOINTS_ORG_LEVEL_NAMES",
    "community_level_name": "GRIDPOINTS_COMMUNITY_LEVEL_NAME",
    "login_limit_per_phone": "GRIDPOINTS_LOGIN_LIMIT_PER_PHONE",
    "login_limit_per_address": "GRIDPOINTS_LOGIN_LIMIT_PER_ADDRESS",
    "job_timeout_seconds": "GRIDPOINTS_JOB_TIMEOUT_SECONDS",
    "job_queue_name": "GRIDPOINTS_JOB_QUEUE",
    "db_pool_min_size": "GRIDPOINTS_DB_POOL_MIN_SIZE",
    "db_pool_max_size": "GRIDPOINTS_DB_POOL_MAX_SIZE",
    "sqlite_busy_timeout_seconds": "GRIDPOINTS_SQLITE_BUSY_TIMEOUT_SECONDS",
    "upload_max_bytes": "GRIDPOINTS_UPLOAD_MAX_BYTES",
    "activity_categories": "GRIDPOINTS_ACTIVITY_CATEGORIES",
    "checkin_slot_seconds": "GRIDPOINTS_CHECKIN_SLOT_SECONDS",
    "checkin_grace_minutes": "GRIDPOINTS_CHECKIN_GRACE_MINUTES",
    "checkin_max_queue_hours": "GRIDPOINTS_CHECKIN_MAX_QUEUE_HOURS",
    "checkin_max_speed_kmh": "GRIDPOINTS_CHECKIN_MAX_SPEED_KMH",
    "checkin_auto_close_hours": "GRIDPOINTS_CHECKIN_AUTO_CLOSE_HOURS",
    "photo_max_bytes": "GRIDPOINTS_PHOTO_MAX_BYTES",
    "uploads_dir_setting": "GRIDPOINTS_UPLOADS_DIR",
    "scoring_rules_dir_setting": "GRIDPOINTS_SCORING_RULES_DIR",
}


class SettingsError(Exception):
    """The environment holds a value the platform cannot use."""


def load_settings(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Read the settings from `environ` (the process environment by default).

    The embedded default needs nothing set: a SQLite file and a generated secret under
    `./var/`. Overrides (used by tests and commands) win over the environment.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {
        field: env[name] for field, name in ENVIRONMENT.items() if env.get(name, "") != ""
    }
    for listed in ("org_level_names", "activity_categories"):
        if listed in raw:
            raw[listed] = [p.strip() for p in str(raw[listed]).split(",") if p.strip()]
    raw.update(overrides)
    var_dir = Path(str(raw.get("var_dir", "var"))).resolve()
    raw["var_dir"] = var_dir
    raw.setdefault("database_url", f"sqlite:///{var_dir / 'gridpoints.sqlite3'}")
    raw["database_url"] = _normalise_database_url(str(raw["database_url"]))
    if "secret_key" not in raw:
        raw["secret_key"] = _kept_secret(var_dir)
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_named(exc)) from exc
    if settings.community_level_name not in settings.org_level_names:
        raise SettingsError(
            f"GRIDPOINTS_COMMUNITY_LEVEL_NAME {settings.community_level_name!r} is not one of "
            f"GRIDPOINTS_ORG_LEVEL_NAMES {','.join(settings.org_level_names)}"
        )
    return settings


def _named(exc: msgspec.ValidationError) -> str:
    """The validation error in the operator's terms: the variable, not the field."""
    message, _, where = str(exc).rpartition(" - at `$.")
    field = where.rstrip("`").split(".")[0].split("[")[0]
    if not message or field not in ENVIRONMENT:
        return f"invalid setting: {exc}"
    return f"{ENVIRONMENT[field]}: {message}"


def _normalise_database_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgres://" + url.removeprefix("postgresql://")
    if not url.startswith(("sqlite:///", "postgres://")):
        raise SettingsError(
            "DATABASE_URL must start with sqlite:/// or postgres:// (got "
            f"{url.split('://', 1)[0]}://...)"
        )
    return url


def _kept_secret(var_dir: Path) -> str:
    """The embedded secret: generated once, then read from `var/secret_key`."""
    path = var_dir / "secret_key"
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text().strip()
        if secret:
            return secret
        raise SettingsError(f"{path} is empty; delete it or set SECRET_KEY") from None
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret
