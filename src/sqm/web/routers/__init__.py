"""Routers of the web app, one module per resource. Each capability adds its module here.

Every module listed must expose ``router`` (a FastAPI ``APIRouter``).
"""

ROUTER_MODULES: list[str] = [
    # first, the busiest routes: routes are matched in order, one by one (a third of an
    # API call's CPU went to matching when the complaint intake came last)
    "sqm.web.routers.survey_public",  # customers' phones
    "sqm.web.api.complaints",  # capturing systems' intake
    "sqm.web.routers.auth",
    "sqm.web.routers.home",
    "sqm.web.routers.org",
    "sqm.web.routers.indicators",
    "sqm.web.routers.admin",
    "sqm.web.routers.scores",
    "sqm.web.routers.imports",
    "sqm.web.routers.network",
    "sqm.web.routers.complaint_alerts",  # before complaints: /complaints/{id} is greedy
    "sqm.web.routers.complaint_upload",  # likewise
    "sqm.web.routers.complaints",
    "sqm.web.routers.inspections",
    "sqm.web.routers.inspection_design",
    "sqm.web.routers.surveys",
    "sqm.web.routers.survey_design",
    "sqm.web.api.org_units",
    "sqm.web.api.indicators",
    "sqm.web.api.weight_profiles",
    "sqm.web.api.inspections",
]
