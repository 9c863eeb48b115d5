"""The Employee Engagement Journey: programme, phase KPIs, effects of actions.

The six phases (Know, Tell, Activate, Reward, Listen, Measure) are run as
initiatives whose activities belong to a phase and involve units
(:mod:`excx.journey.programme`); :mod:`excx.journey.phases` reads each phase's KPIs
from the data; :mod:`excx.journey.did` asks whether an activity moved eNPS or NPS;
:mod:`excx.journey.maturity` scores the prerequisites.

>>> from excx.journey import PHASES
>>> PHASES[0], PHASES[-1]
('know', 'measure')
"""

from __future__ import annotations

from excx.journey import maturity
from excx.journey.did import DidResult, did
from excx.journey.programme import (
    activities,
    activity,
    add_action,
    add_activity,
    add_initiative,
    initiatives,
    recognise,
)
from excx.schema import PHASES

__all__ = [
    "PHASES",
    "add_initiative",
    "add_activity",
    "recognise",
    "add_action",
    "initiatives",
    "activities",
    "activity",
    "did",
    "DidResult",
    "phase_kpis",
    "maturity",
]


def __getattr__(name: str):
    # phase_kpis loads the metrics (and scipy) on first use: the CLI starts fast.
    if name == "phase_kpis":
        from excx.journey.phases import phase_kpis

        return phase_kpis
    raise AttributeError(f"module 'excx.journey' has no attribute {name!r}")
