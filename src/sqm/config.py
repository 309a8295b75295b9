"""Settings from the environment (``SQM_*`` variables), as in FastAPI's full-stack template."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "sqm-dev-secret-change-me"
"""The key of a checkout nobody configured: public, so it signs nothing a server trusts."""

MIN_SECRET_KEY_LEN = 32
INSTANCE_SETTINGS = "settings.env"
"""The instance's own settings file in its data directory (``var/settings.env``), written
by ``sqm init`` / ``sqm demo`` (the random secret key) and read by :func:`get_settings`
after ``.env``; ``SQM_*`` environment variables override both."""


class Settings(BaseSettings):
    """Runtime settings; every command and the web app read the same ones.

    >>> Settings(database_url="sqlite:///x.db").database_url
    'sqlite:///x.db'
    """

    model_config = SettingsConfigDict(env_prefix="SQM_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/sqm.db",
        description="SQLAlchemy URL; SQLite file by default, PostgreSQL in production.",
    )
    secret_key: str = Field(
        default=DEFAULT_SECRET_KEY,
        description="Signs session cookies, CSRF tokens and survey links; `sqm init` "
        "writes a random one into <data_dir>/settings.env.",
    )
    default_locale: str = "zh"
    data_dir: Path = Path("./var")
    session_max_age_s: int = 8 * 3600
    shared_data: Path | None = Field(
        default=None, description="Folder of the public reference data sets (../shared/data)."
    )
    network_dir: Path = Field(
        default=Path(),
        description="Where the network Parquet datasets live; <data_dir>/network by default.",
    )

    @model_validator(mode="after")
    def _network_under_data(self) -> Settings:
        # unset (or empty) means "beside the other data"
        if self.network_dir == Path():
            self.network_dir = self.data_dir / "network"
        return self


def instance_settings_file(data_dir: Path) -> Path:
    """The settings file of the instance whose data lives in ``data_dir``.

    >>> instance_settings_file(Path("var")).as_posix()
    'var/settings.env'
    """
    return data_dir / INSTANCE_SETTINGS


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``): ``SQM_*``
    environment variables, else ``.env``, else the instance's ``<data_dir>/settings.env``."""
    data_dir = Settings().data_dir
    return Settings(_env_file=(instance_settings_file(data_dir), ".env"))


def weak_secret_key(key: str) -> bool:
    """Whether ``key`` cannot protect sessions: the public default, or too short.

    >>> weak_secret_key(DEFAULT_SECRET_KEY), weak_secret_key("x" * 40)
    (True, False)
    """
    return key == DEFAULT_SECRET_KEY or len(key) < MIN_SECRET_KEY_LEN


def is_loopback(host: str) -> bool:
    """Whether a server bound to ``host`` is reachable from this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_KEY_LINE = re.compile(r"^\s*SQM_SECRET_KEY\s*=\s*\S", re.MULTILINE)


def ensure_secret_key(data_dir: Path) -> Path | None:
    """Give the instance a random secret key unless it has one of its own: when the key
    in force (environment, ``.env`` or the instance file) is the public default, append a
    random ``SQM_SECRET_KEY`` to ``<data_dir>/settings.env`` (readable by its owner
    only). Returns the file written, or None when nothing had to be written. An existing
    key is never replaced: that would sign everyone out and break printed survey links."""
    get_settings.cache_clear()
    if get_settings().secret_key != DEFAULT_SECRET_KEY:
        return None
    path = instance_settings_file(data_dir)
    if path.exists() and _KEY_LINE.search(path.read_text(encoding="utf-8")):
        return None  # a key is there but overridden by the environment; leave it
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(f"SQM_SECRET_KEY={secrets.token_urlsafe(48)}\n")
    os.chmod(path, 0o600)
    get_settings.cache_clear()
    return path
