"""excx: measure how employee experience drives customer experience.

>>> import excx
>>> store = excx.connect("duckdb://:memory:")
>>> store.init()
"""

from __future__ import annotations

import logging

from excx.errors import ExcxError
from excx.store import Store, connect

__all__ = ["ExcxError", "Store", "connect", "__version__"]
__version__ = "0.1.0"

logging.getLogger("excx").addHandler(logging.NullHandler())
