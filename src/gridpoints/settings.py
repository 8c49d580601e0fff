"""The platform's configuration: one msgspec Struct read from the environment.

Every command (`serve`, `worker`, `migrate`, `demo`, ...) calls `load_settings()`, so they
all see the same database, Redis and secret. Each field's environment variable is listed in
`ENVIRONMENT` and documented in the README.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Annotated

import msgspec

# The eight duties of a grid worker (八大员), the activity categories unless the deployment
# lists its own; their Chinese labels are `activities.vocab`.
DEFAULT_ACTIVITY_CATEGORIES: tuple[str, ...] = (
    "corridor_facilities",
    "emergency_response",
    "policy_publicity",
    "resident_service",
    "dispute_mediation",
    "volunteer_liaison",
    "hygiene_epidemic",
    "civility_campaign",
)


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
    # Failed sign-ins: from one address for one phone (the common case, kept tight), for one
    # phone from anywhere (a spread-out attack; high enough that strangers cannot lock the
    # owner out for long), and from one address for any phone.
    login_limit_per_phone_address: str = "5/minute"
    login_limit_per_phone: str = "30/hour"
    login_limit_per_address: str = "30/minute"
    # Addresses (or CIDR networks) of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: tuple[str, ...] = ()
    # Every key the platform puts in Redis starts with this (two deployments may share one).
    redis_prefix: str = "gridpoints"
    job_timeout_seconds: Positive = 600
    # Running jobs touch their row this often; one untouched for `job_stale_seconds` is
    # taken for dead and put back (or failed, after `job_max_attempts` starts).
    job_heartbeat_seconds: Positive = 15
    job_stale_seconds: Positive = 60
    job_max_attempts: Positive = 2
    job_queue_name: str = "gridpoints:jobs"
    db_pool_min_size: Positive = 1
    db_pool_max_size: Positive = 10
    sqlite_busy_timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    upload_max_bytes: Positive = 10 * 1024 * 1024
    activity_categories: tuple[str, ...] = DEFAULT_ACTIVITY_CATEGORIES
    checkin_slot_seconds: Positive = 30
    checkin_grace_minutes: Annotated[int, msgspec.Meta(ge=0)] = 30
    checkin_max_queue_hours: Positive = 24
    checkin_max_speed_kmh: Positive = 120
    # A fix less accurate than this is flagged imprecise; its accuracy widens the fence by
    # no more than this.
    checkin_max_accuracy_m: Positive = 200
    checkin_auto_close_hours: Positive = 3
    # A queued check-in that arrives more than this after its (corrected) scan, its code
    # expired by then, is flagged for a leader; a shorter wait is weak signal, not doubt.
    checkin_late_after_minutes: Annotated[int, msgspec.Meta(ge=0)] = 5
    # How long a scan receipt (taken before signing in) stays good, and how many one client
    # address may ask for (the receipt route needs no sign-in).
    checkin_receipt_max_minutes: Positive = 30
    checkin_receipt_limit_per_address: str = "120/minute"
    photo_max_bytes: Positive = 5 * 1024 * 1024
    photo_max_pixels: Positive = 40_000_000
    # Member import files: an XLSX is refused before parsing beyond these; rows stop at the
    # row limit or after a run of empty rows.
    import_max_uncompressed_bytes: Positive = 50 * 1024 * 1024
    import_max_compression_ratio: Positive = 100
    import_max_rows: Positive = 50_000
    import_max_empty_rows: Positive = 1_000
    # Keys the audit chain (HMAC); not stored in the database.
    audit_key: str
    audit_checkpoint_file_setting: str = ""
    uploads_dir_setting: str = ""
    scoring_rules_dir_setting: str = ""

    @property
    def uploads_dir(self) -> Path:
        """Evidence photos: GRIDPOINTS_UPLOADS_DIR, or `uploads/` in the var folder."""
        return (
            Path(self.uploads_dir_setting) if self.uploads_dir_setting else self.var_dir / "uploads"
        )

    @property
    def audit_checkpoint_file(self) -> Path:
        """Signed heads of the audit chain: GRIDPOINTS_AUDIT_CHECKPOINT_FILE, or
        `audit_checkpoints` in the var folder."""
        if self.audit_checkpoint_file_setting:
            return Path(self.audit_checkpoint_file_setting)
        return self.var_dir / "audit_checkpoints"

    @property
    def scoring_rules_dir(self) -> Path:
        """Rule set files: GRIDPOINTS_SCORING_RULES_DIR, or the shipped `scoring_rules/`."""
        if self.scoring_rules_dir_setting:
            return Path(self.scoring_rules_dir_setting)
        from gridpoints.resources import resource_dir

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
    "login_limit_per_phone_address": "GRIDPOINTS_LOGIN_LIMIT_PER_PHONE_ADDRESS",
    "login_limit_per_phone": "GRIDPOINTS_LOGIN_LIMIT_PER_PHONE",
    "login_limit_per_address": "GRIDPOINTS_LOGIN_LIMIT_PER_ADDRESS",
    "trusted_proxies": "GRIDPOINTS_TRUSTED_PROXIES",
    "redis_prefix": "GRIDPOINTS_REDIS_PREFIX",
    "job_timeout_seconds": "GRIDPOINTS_JOB_TIMEOUT_SECONDS",
    "job_heartbeat_seconds": "GRIDPOINTS_JOB_HEARTBEAT_SECONDS",
    "job_stale_seconds": "GRIDPOINTS_JOB_STALE_SECONDS",
    "job_max_attempts": "GRIDPOINTS_JOB_MAX_ATTEMPTS",
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
    "checkin_max_accuracy_m": "GRIDPOINTS_CHECKIN_MAX_ACCURACY_M",
    "checkin_auto_close_hours": "GRIDPOINTS_CHECKIN_AUTO_CLOSE_HOURS",
    "checkin_late_after_minutes": "GRIDPOINTS_CHECKIN_LATE_AFTER_MINUTES",
    "checkin_receipt_max_minutes": "GRIDPOINTS_CHECKIN_RECEIPT_MAX_MINUTES",
    "checkin_receipt_limit_per_address": "GRIDPOINTS_CHECKIN_RECEIPT_LIMIT_PER_ADDRESS",
    "photo_max_bytes": "GRIDPOINTS_PHOTO_MAX_BYTES",
    "photo_max_pixels": "GRIDPOINTS_PHOTO_MAX_PIXELS",
    "import_max_uncompressed_bytes": "GRIDPOINTS_IMPORT_MAX_UNCOMPRESSED_BYTES",
    "import_max_compression_ratio": "GRIDPOINTS_IMPORT_MAX_COMPRESSION_RATIO",
    "import_max_rows": "GRIDPOINTS_IMPORT_MAX_ROWS",
    "import_max_empty_rows": "GRIDPOINTS_IMPORT_MAX_EMPTY_ROWS",
    "audit_key": "GRIDPOINTS_AUDIT_KEY",
    "audit_checkpoint_file_setting": "GRIDPOINTS_AUDIT_CHECKPOINT_FILE",
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
    for listed in ("org_level_names", "activity_categories", "trusted_proxies"):
        if listed in raw:
            raw[listed] = [p.strip() for p in str(raw[listed]).split(",") if p.strip()]
    raw.update(overrides)
    var_dir = Path(str(raw.get("var_dir", "var"))).resolve()
    raw["var_dir"] = var_dir
    raw.setdefault("database_url", f"sqlite:///{var_dir / 'gridpoints.sqlite3'}")
    raw["database_url"] = _normalise_database_url(str(raw["database_url"]))
    for field in ("secret_key", "audit_key"):
        if field in raw:
            continue
        if not raw["database_url"].startswith("sqlite"):
            # Several processes share one PostgreSQL: a key each made for itself would
            # split them (tokens of one refused by the others, an audit chain unverifiable).
            raise SettingsError(
                f"{ENVIRONMENT[field]} must be set when DATABASE_URL is PostgreSQL "
                "(the same value on every API process and worker)"
            )
        raw[field] = _kept_secret(var_dir, field)
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_named(exc)) from exc
    for proxy in settings.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SettingsError(
                f"GRIDPOINTS_TRUSTED_PROXIES: {proxy!r} is not an IP address or network"
            ) from None
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


def _kept_secret(var_dir: Path, name: str) -> str:
    """An embedded secret: generated once, then read from `var/<name>` (`secret_key`,
    `audit_key`)."""
    path = var_dir / name
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text().strip()
        if secret:
            return secret
        raise SettingsError(f"{path} is empty; delete it or set {ENVIRONMENT[name]}") from None
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret
