"""Routers of the web app, one module per resource. Each capability adds its module here.

Every module listed must expose ``router`` (a FastAPI ``APIRouter``).
"""

ROUTER_MODULES: list[str] = [
    # first, the busiest routes: routes are matched in order, one by one (a third of an
    # API call's CPU went to matching when the complaint intake came last)
    "sqm.web.surveys.public",  # customers' phones
    "sqm.web.complaints.api",  # capturing systems' intake
    "sqm.web.foundation.auth",
    "sqm.web.foundation.home",
    "sqm.web.foundation.org",
    "sqm.web.evaluation.indicators",
    "sqm.web.foundation.admin",
    "sqm.web.evaluation.scores",
    "sqm.web.foundation.imports",
    "sqm.web.network.pages",
    "sqm.web.complaints.alerts",  # before complaints: /complaints/{id} is greedy
    "sqm.web.complaints.upload",  # likewise
    "sqm.web.complaints.pages",
    "sqm.web.inspections.scores",
    "sqm.web.inspections.visits",
    "sqm.web.inspections.plan",
    "sqm.web.inspections.design",
    "sqm.web.surveys.pages",
    "sqm.web.surveys.design",
    "sqm.web.foundation.api",
    "sqm.web.evaluation.api",
    "sqm.web.evaluation.weight_profiles_api",
    "sqm.web.inspections.api",
]
