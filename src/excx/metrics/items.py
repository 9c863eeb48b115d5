"""Which employee items make the engagement index.

Pulse surveys carry more than engagement: the Engagement Journey asks about
readiness (Know) and about the vision and roadmap (Tell). Those answers must not
move the engagement index, or telling people about a project would look like
engaging them. Item ids beginning with one of :data:`PROGRAMME_PREFIXES` are the
programme's own; every other employee item is an engagement item.

>>> is_engagement_item("pride"), is_engagement_item("journey_vision")
(True, False)
"""

from __future__ import annotations

import ibis.expr.types as ir

from excx.store import Store

__all__ = ["PROGRAMME_PREFIXES", "engagement_items", "is_engagement_item"]

# Know: readiness items (readiness_tools, ...); Tell: journey items (journey_vision).
PROGRAMME_PREFIXES = ("readiness", "journey")


def is_engagement_item(item_id: str) -> bool:
    """Whether `item_id` counts towards the engagement index."""
    return not item_id.startswith(PROGRAMME_PREFIXES)


def engagement_items(store: Store) -> ir.Table:
    """``employee_items`` without the programme's items (see module docstring)."""
    items = store.table("employee_items")
    first, *others = PROGRAMME_PREFIXES
    programme = items.item_id.startswith(first)
    for prefix in others:
        programme |= items.item_id.startswith(prefix)
    return items.filter(~programme)
