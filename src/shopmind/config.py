"""All configuration in one `Settings` object, read from the environment (``SHOPMIND_*``).

Reach it through :func:`get_settings`; tests override it with :func:`override_settings`.
Library functions take plain keyword arguments, never the settings object.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _default_datasets_dir() -> Path:
    """``../shared/datasets`` next to the project checkout, else next to the working dir."""
    beside_checkout = _PROJECT_ROOT.parent / "shared" / "datasets"
    if beside_checkout.is_dir():
        return beside_checkout
    return Path.cwd().parent / "shared" / "datasets"


class Settings(BaseSettings):
    """ShopMind settings; every field can be set as ``SHOPMIND_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="SHOPMIND_", env_file=None, extra="ignore")

    data_dir: Path = Field(
        default=Path(".shopmind"),
        description="Where the embedded store, models and quarantine files live.",
    )
    store_url: str = Field(
        default="",
        description="sqlite:///PATH or postgresql://…; empty means SQLite under data_dir.",
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0")
    datasets_dir: Path = Field(
        default_factory=_default_datasets_dir,
        validation_alias="SHOPMIND_DATA",
        description="Folder holding the public data sets (../shared/datasets).",
    )
    default_shop: str = Field(default="default", min_length=1, max_length=64)
    ingest_chunk_rows: int = Field(default=250_000, ge=1_000, le=5_000_000)
    search_embedding_backend: str = Field(
        default="e5-fast",
        description="Embedding backend of product search (e5-fast, e5, use, hashing, …); "
                    "e5-fast and e5 give the same vectors, e5-fast 3-12x sooner.",
    )
    catalog_text_backend: str = Field(
        default="use",
        description="Embedding backend of the category classifier that fills missing item "
                    "categories after an ingest (use, hashing, …).",
    )
    unknown_reference_policy: Literal["placeholder", "quarantine"] = Field(
        default="placeholder",
        description="What to do with an event whose user or item is not in the catalog.",
    )
    # -- serving (``shopmind serve``) ------------------------------------------------------
    realtime_url: str = Field(
        default="memory://",
        description="Realtime session state: memory:// (one embedded process) or redis://….",
    )
    serve_max_body_bytes: int = Field(default=1_048_576, ge=1_024, le=100_000_000)
    serve_max_batch: int = Field(default=1_000, ge=1, le=100_000,
                                 description="Most events or items one request may carry.")
    serve_rate_limit_rps: float = Field(default=200.0, gt=0,
                                        description="Sustained requests per second per key.")
    serve_rate_limit_burst: int = Field(default=400, ge=1)
    serve_model_poll_s: float = Field(default=2.0, gt=0, le=3600,
                                      description="How often LATEST pointers are checked.")
    serve_snapshot_refresh_s: float = Field(
        default=300.0, gt=0,
        description="How often stored histories are re-read; below the session TTL (1800 s), "
                    "so no event drops out of view between a session expiring and a refresh.",
    )
    serve_text_backend: str = Field(default="hashing",
                                    description="Embedding backend for items new since training.")

    @field_validator("serve_snapshot_refresh_s")
    @classmethod
    def _refresh_below_session_ttl(cls, value: float) -> float:
        if value >= 1800:
            raise ValueError(f"serve_snapshot_refresh_s must be below the 1800 s session TTL, "
                             f"got {value}")
        return value

    @field_validator("realtime_url")
    @classmethod
    def _known_realtime(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://", "unix://")):
            raise ValueError(f"realtime_url must be memory:// or redis://…, got {value!r}")
        return value

    @field_validator("store_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError(
                f"store_url must start with sqlite:/// or postgresql://, got {value!r}"
            )
        return value

    @property
    def resolved_store_url(self) -> str:
        """The store URL, defaulting to a SQLite file under ``data_dir``."""
        return self.store_url or f"sqlite:///{self.data_dir / 'shopmind.db'}"

    @property
    def embedding_cache_dir(self) -> Path:
        """Where text vectors are cached by content hash."""
        return self.data_dir / "embeddings"

    @property
    def quarantine_path(self) -> Path:
        return self.data_dir / "quarantine.jsonl"

    @property
    def api_keys_path(self) -> Path:
        """Hashed API keys of every shop (next to the models, which replicas share too)."""
        return self.data_dir / "api_keys.json"


_override: Settings | None = None


@lru_cache(maxsize=1)
def _settings_from_environment() -> Settings:
    return Settings()


def get_settings() -> Settings:
    """The process-wide settings: the override if one is set, else read once from the env."""
    return _override if _override is not None else _settings_from_environment()


def override_settings(settings: Settings | None) -> None:
    """Use ``settings`` everywhere (tests, the CLI's global options); ``None`` resets."""
    global _override
    _override = settings
    _settings_from_environment.cache_clear()
