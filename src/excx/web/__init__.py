"""The dashboard of ``excx serve``: server-rendered pages over the library's figures.

``router`` holds the pages (``/dashboard/…``, ``/login``); ``STATIC_DIR`` the CSS,
JavaScript and vendored Vega scripts the app serves under ``/static``.
"""

from excx.web.pages import STATIC_DIR, router

__all__ = ["router", "STATIC_DIR"]
