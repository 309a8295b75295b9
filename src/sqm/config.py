"""Settings from the environment (``SQM_*`` variables), as in FastAPI's full-stack template."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
        default="sqm-dev-secret-change-me",
        description="Signs session cookies, CSRF tokens and survey links.",
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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()
