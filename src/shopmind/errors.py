"""One exception tree for the whole library.

The library raises these; only the CLI and the HTTP layer turn them into exit codes and
status codes.
"""


class ShopMindError(Exception):
    """Base of every error ShopMind raises on purpose."""


class ConfigError(ShopMindError):
    """A setting is missing, unsafe or contradictory."""


class InputError(ShopMindError):
    """User-supplied input (a file, a flag, a request field) is wrong."""


class MappingError(InputError):
    """A column mapping does not fit the file it is applied to."""


class UnknownNameError(InputError):
    """A name (model, data set, backend) is not registered; the message lists valid ones."""


class NotFoundError(ShopMindError):
    """A requested user, item or shop does not exist."""


class StoreError(ShopMindError):
    """The store cannot be opened, migrated or written."""


class NotFittedError(ShopMindError):
    """A model or index was used before `fit` was called."""


class DatasetUnavailableError(ShopMindError):
    """A public data set is not present under the configured data directory."""
