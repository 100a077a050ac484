"""Errors whose messages are safe to show to a shopper or an agent.

Every error raised across a package boundary derives from :class:`ShopAssistError`; its
``str()`` is a plain sentence for people, never a traceback. Wrap lower-level failures with
``raise SomeError("...") from e`` so the cause is kept for logs.
"""

from __future__ import annotations


class ShopAssistError(Exception):
    """Base class: the message is written for the person using the product."""


class ConfigError(ShopAssistError):
    """A setting is missing or wrong (the message names the setting to change)."""


class ModelUnavailableError(ShopAssistError):
    """A model cannot be loaded (not installed, wrong path, or no weights offline)."""


class CatalogError(ShopAssistError):
    """The catalog file cannot be read at all (bad rows are reported, not raised)."""


class IndexNotReadyError(ShopAssistError):
    """The store has no indexed products yet; run ``shopassist index`` first."""


class InputError(ShopAssistError):
    """Input from the user (text, photo, audio) cannot be used; says why and what to do."""


class AudioError(InputError):
    """A recording cannot be used: empty, silent, too long, too large, or not audio."""


class ImageError(InputError):
    """A photo cannot be used: unreadable, corrupt, too large, or of an unsupported type."""


class StoreBusyError(ShopAssistError):
    """Another indexer holds the store's writer lock (one writer per store at a time)."""
