"""Configuration, read once from the environment and ``.env`` (CONTRACT.md §2).

pydantic-settings reads ``.env`` in the working directory through python-dotenv;
variables already in the environment win. Nothing here is built at import time:
call :func:`load_settings`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.exceptions import ConfigurationError
from core.models import ImageQuality, ImageSize


class Settings(BaseSettings):
    """Every setting PixyProxy reads; names are the environment variables in upper case."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # `VAR=` in .env means unset, as a shell user expects
        extra="ignore",
        case_sensitive=False,
    )

    # Database: MySQL when DB_HOST is set, else embedded SQLite.
    db_host: str | None = None
    db_port: int = Field(default=3306, ge=1, le=65535)
    db_user: str | None = None
    db_password: SecretStr | None = None
    db_name: str = Field(default="pixyproxy", pattern=r"^[A-Za-z0-9_]{1,64}$")
    db_pool_size: int = Field(default=10, ge=1, le=32)
    db_pool_timeout: float = Field(default=5.0, gt=0)  # seconds to wait for a free connection
    db_connect_timeout: int = Field(default=5, ge=1)
    db_use_pure: bool = False  # true: mysql-connector's pure-Python protocol, not its C extension
    sqlite_path: Path = Path("./var/pixyproxy.db")

    # Blob store: S3 when S3_BUCKET is set, else a local folder.
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_public_endpoint_url: str | None = None
    aws_region: str | None = None
    # boto3's own names; read here too so that values in .env reach boto3.
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    blob_dir: Path = Path("./var/blobs")

    # Generator: OpenAI when OPENAI_API_KEY is set, else offline.
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_image_model: str = "gpt-image-1"
    # Defaults of ImageDetailCreate's size and quality (the same values are allowed).
    openai_image_size: ImageSize = "1024x1024"
    openai_image_quality: ImageQuality = "auto"
    openai_timeout: float = Field(default=120.0, gt=0)

    # Threads that make renditions right after a create's commit; 0 makes them inline
    # on the request path (a missing one is made on its first request either way).
    rendition_workers: int = Field(default=1, ge=0, le=8)

    # Seconds a completed Idempotency-Key is remembered (POST /image, /private/image).
    idempotency_ttl: int = Field(default=86400, ge=1, le=30 * 86400)

    # Rate limits, counted in the database so every worker and replica sees them.
    # Failed logins, always per client address (never per username alone, so nobody can
    # lock a user out from elsewhere): AUTH_MAX_FAILURES per (address, username) pair and
    # AUTH_MAX_ADDRESS_FAILURES per address over all usernames, within AUTH_FAILURE_WINDOW
    # seconds; then 429 until the window ends (0 turns a rule off).
    auth_max_failures: int = Field(default=5, ge=0)
    auth_max_address_failures: int = Field(default=20, ge=0)
    auth_failure_window: int = Field(default=300, ge=1, le=86400)
    # Public POST /image per client address: CREATE_RATE_LIMIT per CREATE_RATE_WINDOW
    # seconds (0, the default, turns it off).
    create_rate_limit: int = Field(default=0, ge=0)
    create_rate_window: int = Field(default=3600, ge=1, le=86400)

    content_redirect: bool = False
    presign_expires: int = Field(default=300, ge=1, le=604800)
    log_format: Literal["json", "text"] | None = None
    log_level: str = "INFO"

    @property
    def uses_mysql(self) -> bool:
        """True when metadata lives in MySQL rather than embedded SQLite."""
        return self.db_host is not None

    @property
    def uses_s3(self) -> bool:
        """True when blobs live in an S3-compatible bucket rather than a folder."""
        return self.s3_bucket is not None

    @property
    def uses_openai(self) -> bool:
        """True when images come from the OpenAI Images API."""
        return self.openai_api_key is not None

    @property
    def effective_log_format(self) -> str:
        """``LOG_FORMAT``, or ``text`` on a TTY and ``json`` otherwise."""
        if self.log_format:
            return self.log_format
        return "text" if sys.stderr.isatty() else "json"


def load_settings(**overrides: object) -> Settings:
    """Read the settings; an invalid value raises ``ConfigurationError`` naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        names = ", ".join(
            sorted({str(err["loc"][0]).upper() for err in exc.errors() if err["loc"]})
        )
        raise ConfigurationError(f"Invalid setting: {names}") from None
