"""Demo data: a year of complaints for the demo stores, with Chinese texts and a few hotspots.

Rates follow each store's customer base (about 8 complaints per 10,000 customers a month,
varied by a per-store quality factor), channels and categories follow typical operator
shares, response and resolution times are log-normal, and four store × category cells get
a burst of 10–15 extra complaints in the last three weeks (a local fault, a rude clerk), so the dashboard's hotspot scan has something
real to find.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert

from sqm.domain.complaint_taxonomy import Channel, ComplaintClass, all_subcategories, default_class
from sqm.domain.complaint_texts import compose
from sqm.domain.sla import DEFAULT_POLICIES, deadlines
from sqm.services.complaints.handling import default_calendar
from sqm.services.demo_context import DemoContext
from sqm.store.models import Complaint

CHANNEL_SHARES = {
    Channel.HOTLINE: 0.45,
    Channel.APP: 0.15,
    Channel.WEB: 0.07,
    Channel.SOCIAL: 0.07,
    Channel.STORE: 0.20,
    Channel.EMAIL: 0.03,
    Channel.REGULATOR: 0.03,
}
CATEGORY_SHARES = {
    "network": 0.28,
    "billing": 0.24,
    "service": 0.14,
    "product": 0.07,
    "broadband": 0.14,
    "vas": 0.08,
    "porting": 0.02,
    "privacy": 0.03,
}
HOTSPOTS = (  # (store index, sub-category, extra complaints) in the last 21 days
    (3, "network.slow_data", 15),
    (41, "billing.overcharge", 12),
    (97, "broadband.bb_disconnect", 14),
    (150, "service.rude_staff", 10),
)
MONTHLY_RATE_PER_10K = 8.0


def build_demo_complaints(ctx: DemoContext) -> None:
    """Add a year of complaints (about 20,000) to the demo database."""
    rng = ctx.rng("complaints")
    assert ctx.periods, "the periods step must run first"
    start = datetime.combine(ctx.periods[0].start, time(0), tzinfo=default_calendar().zone)
    end = datetime.combine(
        ctx.periods[-1].end + timedelta(days=1), time(0), tzinfo=default_calendar().zone
    )
    days = (end - start).days
    subs = list(all_subcategories())
    sub_p = np.array(
        [
            CATEGORY_SHARES[s.category] / sum(1 for t in subs if t.category == s.category)
            for s in subs
        ]
    )
    sub_p /= sub_p.sum()
    channels = list(CHANNEL_SHARES)
    ch_p = np.array(list(CHANNEL_SHARES.values()))
    handler = ctx.users.get("handler")
    rows: list[dict[str, Any]] = []
    cal = default_calendar()
    now = end
    serial = 0
    for i, store in enumerate(ctx.stores):
        customers = store.customers or 5000
        quality = float(rng.lognormal(0.0, 0.35))
        lam = MONTHLY_RATE_PER_10K * customers / 10_000 * 12 * quality
        n = int(rng.poisson(lam))
        offsets = rng.uniform(0, days * 86_400, n)
        sub_idx = rng.choice(len(subs), n, p=sub_p)
        events = [(float(o), subs[int(k)].code) for o, k in zip(offsets, sub_idx, strict=True)]
        for idx, code, extra in HOTSPOTS:
            if idx == i:
                events += [
                    (float(o), code)
                    for o in rng.uniform((days - 21) * 86_400, days * 86_400, extra)
                ]
        customers_seen: list[str] = []
        for off, code in sorted(events):
            serial += 1
            received = start + timedelta(seconds=off)
            channel = channels[int(rng.choice(len(channels), p=ch_p))]
            klass = default_class(channel)
            if klass is ComplaintClass.ORDINARY and rng.random() < 0.04:
                klass = ComplaintClass.ESCALATED
            policy = DEFAULT_POLICIES.policy_for(channel, klass)
            fr_due, res_due = deadlines(policy, cal, received)
            if customers_seen and rng.random() < 0.08:
                customer = customers_seen[int(rng.integers(len(customers_seen)))]
            else:
                customer = (
                    "1"
                    + str(int(rng.integers(3, 9)))
                    + "".join(str(d) for d in rng.integers(0, 10, 9))
                )
                customers_seen.append(customer)
            fr = received + timedelta(hours=float(rng.lognormal(np.log(3.0), 0.8)))
            res = received + timedelta(hours=float(rng.lognormal(np.log(30.0), 0.9)))
            status = "closed"
            resolved: datetime | None = res
            closed: datetime | None = res + timedelta(days=1)
            sat: int | None = None
            if res > now:
                status, resolved, closed = ("in_progress" if fr <= now else "new"), None, None
            elif closed is not None and closed > now:
                status, closed = "resolved", None
            if resolved is not None and rng.random() < 0.6:
                late = resolved > res_due
                sat = int(
                    rng.choice(
                        [1, 2, 3, 4, 5],
                        p=[0.12, 0.13, 0.2, 0.3, 0.25] if late else [0.03, 0.05, 0.12, 0.35, 0.45],
                    )
                )
            rows.append(
                {
                    "source_system": "demo",
                    "source_id": f"D{serial:07d}",
                    "channel": channel.value,
                    "complaint_class": klass.value,
                    "customer_ref": customer,
                    "unit_id": store.id,
                    "category": code.split(".")[0],
                    "subcategory": code,
                    "category_confirmed": True,
                    "text": compose(code, rng),
                    "received_at": received.astimezone(UTC),
                    "first_response_at": fr.astimezone(UTC) if fr <= now else None,
                    "resolved_at": resolved.astimezone(UTC) if resolved else None,
                    "closed_at": closed.astimezone(UTC) if closed else None,
                    "first_response_due": fr_due.astimezone(UTC),
                    "resolution_due": res_due.astimezone(UTC),
                    "status": status,
                    "handler_id": handler.id
                    if handler is not None and rng.random() < 0.5
                    else None,
                    "satisfaction": sat,
                    "contacts": int(rng.choice([1, 1, 1, 2, 3])),
                }
            )
    for chunk in range(0, len(rows), 5000):
        ctx.session.execute(insert(Complaint), rows[chunk : chunk + 5000])
    ctx.session.flush()
    ctx.extra["complaints"] = len(rows)
