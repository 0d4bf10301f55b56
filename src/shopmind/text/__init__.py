"""Text: embedding backends (and, later, sentiment, aspects, classification, PII scrubbing)."""

from shopmind.text.embeddings import (
    DEFAULT_BACKEND,
    Backend,
    HashingBackend,
    available_backends,
    create_backend,
    load_backend,
    register_backend,
)

__all__ = [
    "DEFAULT_BACKEND",
    "Backend",
    "HashingBackend",
    "available_backends",
    "create_backend",
    "load_backend",
    "register_backend",
]
