"""All tables. Each capability adds its own module here (one import line)."""

from sqm.store.models.complaint import (  # noqa: F401
    Complaint,
    ComplaintNote,
    ComplaintRectification,
    ComplaintStatusChange,
)
from sqm.store.models.complaint_alert import ComplaintAlert, ComplaintAlertEvent  # noqa: F401
from sqm.store.models.evaluation import IndicatorValue, UnitScore
from sqm.store.models.indicator import IndicatorNode, IndicatorSystem, Weight, WeightProfile
from sqm.store.models.inspection import (  # noqa: F401
    InspectionAppeal,
    InspectionChecklist,
    InspectionEvidence,
    InspectionPlanEntry,
    InspectionRectification,
    InspectionVisit,
)
from sqm.store.models.network import (  # noqa: F401
    NetworkAlert,
    NetworkAlertEvent,
    NetworkCell,
    NetworkKpiValue,
    NetworkSilence,
    NotificationRoute,
)
from sqm.store.models.org import OrgUnit
from sqm.store.models.period import Period
from sqm.store.models.survey import (  # noqa: F401
    SurveyAmendment,
    SurveyColumnMapping,
    SurveyInstrument,
    SurveyQuota,
    SurveyResponse,
    SurveyToken,
    SurveyWave,
)
from sqm.store.models.user import (
    ApiToken,
    AuditEntry,
    RoleGrant,
    SignInThrottle,
    User,
    UserSession,
)

__all__ = [
    "ApiToken",
    "AuditEntry",
    "IndicatorNode",
    "IndicatorSystem",
    "IndicatorValue",
    "OrgUnit",
    "Period",
    "RoleGrant",
    "SignInThrottle",
    "UnitScore",
    "User",
    "UserSession",
    "Weight",
    "WeightProfile",
]
