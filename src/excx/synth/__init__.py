"""A synthetic omnichannel bank with a known causal truth.

The bank runs 24 monthly periods (from ``SynthParams.start``). It has regions (6
by default), each with branches (kind ``branch``, channel ``store``) and one contact
centre (kind ``contact_centre``) whose teams (kind ``team``) answer the phone
(channel ``contact_centre``) and chats escalated to a person (channel ``chatbot``,
served by ``human``). Digital contacts have **no serving unit**: bot-served answers
(chatbot or voice bot on the ``contact_centre`` channel) and self-service answers
(``web``, ``app``) carry ``unit_id = null``; there is no "digital" unit. A
share of branches (``small_unit_share``) has 5-15 employees, so their monthly
employee cells often hold fewer than 5 answers and must be suppressed.

Causal structure
----------------
For serving unit u in region r and month t (all links linear; symbols are
:class:`SynthParams` fields)::

    a[r]      regional affluence, spread evenly over [-1, 1]         (confounder)
    mu[u]   = affluence_on_engagement * a[r] + unit_engagement_sd * z[u]
    E[u,t]  = clip(mu[u] + d[u,t], -3, 3),
              d[u,t] = engagement_ar * d[u,t-1] + innovation   (stationary sd
              engagement_sd)                                   latent engagement
    Q[u,t]  = engagement_on_quality * E[u,t] + quality_noise * eta[u,t],
              eta uniform with variance 1                       service quality
    employee answers at t    : weight  employee_weight + employee_slope * E[u,t]
                                       (+ manager_shift for managers)
    customer answers at t    : weight  customer_weight (+ store_shift in branches)
      (human-served, unit u)           + customer_slope * (Q[u,t-1]
                                       + affluence_on_customers * a[r])
    service items at t       : the same without the affluence term
    bot / self-service       : bot_weight / self_service_weight
                               + customer_slope * affluence_on_customers * a
    branch revenue at t      : customers * (revenue_per_customer
                               * (1 + affluence_on_revenue * a[r])
                               + revenue_per_nps_point * NPS*[u,t])
    branch churn at t        : Binomial(customers, churn_rate
                               - churn_per_nps_point * NPS*[u,t])

Every answer (eNPS, NPS 0-10; engagement items, CSAT, service items 1-5; CES 1-7,
higher = easier) is drawn from the mix ``(1 - w) * low + w * high`` of two fixed
distributions of its scale, with the weight w above. One respondent's answers share
a uniform draw with probability ``answer_coherence``, so they agree without changing
any margin. Expected scores are therefore *exactly* linear in w, and the parameters
are checked so that no weight ever leaves [0, 1].

Affluence confounds the chain: it raises unit engagement (hence eNPS) and, directly,
customer NPS and revenue. Bots score below people by construction.

The true effects (:class:`Truth`)
---------------------------------
Let eNPS*[u,t] and NPS*[u,t] be the expected eNPS of unit u's employees in month t
and the expected NPS of its human-served customers in month t (expectations over
respondents, given the latent states). Both NPS scales use the same two answer
distributions, whose NPS differ by D (= 101 points), so::

    d eNPS*[u,t-1] / d E[u,t-1] = employee_slope * D
    d NPS*[u,t]    / d E[u,t-1] = customer_slope * engagement_on_quality * D

``Truth.enps_to_nps`` = customer_slope * engagement_on_quality / employee_slope
(0.514 by default) is the change in NPS*[u,t] caused by a change of engagement in
month t-1 that moves eNPS*[u,t-1] by +1 point, regional affluence held fixed. It is
the same for every unit and month. E[u,t-1] also raises E[u,t] (AR(1)), but
customer answers in month t depend on Q[u,t-1] only, so that path adds nothing.
An estimator of it must handle: affluence confounding (between units), the sampling
error of monthly eNPS (few respondents: attenuation), and the lag.
``Truth.enps_to_revenue_per_customer`` carries it on to revenue per customer in t.
``Truth.panel`` holds E, Q, eNPS*, NPS* and the expected engagement index per unit
and month.

>>> from excx.synth import generate
>>> company = generate("small", seed=0)
>>> sorted(company.tables)[:3]
['customer_items', 'customer_responses', 'employee_items']
"""

from __future__ import annotations

from excx.synth._company import Company, Truth, generate, split_items
from excx.synth._files import write_files
from excx.synth._params import (
    CUSTOMER_ITEMS,
    EMPLOYEE_ITEMS,
    ROLES,
    SIZES,
    TENURE_BANDS,
    SynthParams,
)

__all__ = [
    "Company",
    "Truth",
    "SynthParams",
    "generate",
    "write_files",
    "split_items",
    "SIZES",
    "EMPLOYEE_ITEMS",
    "CUSTOMER_ITEMS",
    "ROLES",
    "TENURE_BANDS",
]
