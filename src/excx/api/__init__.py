"""``excx serve``: the REST API, users and roles, and survey collection.

>>> from excx.api import Settings, create_app
>>> app = create_app(Settings(store="duckdb://:memory:", secret_key="k" * 32))
>>> app.title
'excx'
"""

from excx.api.app import create_app
from excx.api.settings import Settings, load_settings

__all__ = ["create_app", "Settings", "load_settings"]
