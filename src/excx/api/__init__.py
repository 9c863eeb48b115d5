"""``excx serve``: the REST API, users and roles, and survey collection.

>>> from excx.api import Settings, create_app
>>> app = create_app(Settings(store="duckdb://:memory:", secret_key="k" * 32))
>>> app.title
'excx'
"""

from __future__ import annotations

import importlib

__all__ = ["create_app", "Settings", "load_settings"]

# Loaded on first use: the CLI imports excx.api.commands at every start, and
# FastAPI is not needed unless the service runs.
_HOMES = {
    "create_app": "excx.api.app",
    "Settings": "excx.api.settings",
    "load_settings": "excx.api.settings",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'excx.api' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
