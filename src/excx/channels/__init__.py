"""Omnichannel and human-touch analysis.

KPIs by channel and by who served the customer (a person, a bot, self-service),
the share of customers who prefer a person, customer journeys across channels
imported from interaction logs, and what a bot-to-human hand-off costs in NPS.
"""

from __future__ import annotations

from excx.channels.interactions import import_interactions

__all__ = ["import_interactions"]
