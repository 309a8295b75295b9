"""Roles and what each may do. Scope (which org subtree) is granted separately per user."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    QUALITY_ANALYST = "quality_analyst"
    AREA_MANAGER = "area_manager"
    STORE_MANAGER = "store_manager"
    INSPECTOR = "inspector"
    COMPLAINT_HANDLER = "complaint_handler"
    NETWORK_ENGINEER = "network_engineer"
    VIEWER = "viewer"


class Permission(StrEnum):
    VIEW_ORG = "view_org"
    EDIT_ORG = "edit_org"
    VIEW_INDICATORS = "view_indicators"
    EDIT_INDICATORS = "edit_indicators"
    EDIT_WEIGHTS = "edit_weights"
    VIEW_SCORES = "view_scores"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    MANAGE_SURVEYS = "manage_surveys"
    DO_INSPECTIONS = "do_inspections"
    REVIEW_INSPECTIONS = "review_inspections"
    HANDLE_COMPLAINTS = "handle_complaints"
    VIEW_CUSTOMER_IDENTITY = "view_customer_identity"
    VIEW_NETWORK = "view_network"
    MANAGE_ALERTS = "manage_alerts"


_P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.QUALITY_ANALYST: frozenset(
        {
            _P.VIEW_ORG,
            _P.EDIT_ORG,
            _P.VIEW_INDICATORS,
            _P.EDIT_INDICATORS,
            _P.EDIT_WEIGHTS,
            _P.VIEW_SCORES,
            _P.VIEW_AUDIT,
            _P.MANAGE_SURVEYS,
            _P.REVIEW_INSPECTIONS,
            _P.VIEW_NETWORK,
        }
    ),
    Role.AREA_MANAGER: frozenset(
        {_P.VIEW_ORG, _P.VIEW_INDICATORS, _P.VIEW_SCORES, _P.VIEW_NETWORK}
    ),
    Role.STORE_MANAGER: frozenset({_P.VIEW_ORG, _P.VIEW_INDICATORS, _P.VIEW_SCORES}),
    Role.INSPECTOR: frozenset({_P.VIEW_ORG, _P.DO_INSPECTIONS}),
    Role.COMPLAINT_HANDLER: frozenset(
        {_P.VIEW_ORG, _P.HANDLE_COMPLAINTS, _P.VIEW_CUSTOMER_IDENTITY}
    ),
    Role.NETWORK_ENGINEER: frozenset({_P.VIEW_ORG, _P.VIEW_NETWORK, _P.MANAGE_ALERTS}),
    Role.VIEWER: frozenset({_P.VIEW_ORG, _P.VIEW_INDICATORS, _P.VIEW_SCORES}),
}

ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.ADMIN: ("系统管理员", "Administrator"),
    Role.QUALITY_ANALYST: ("质量分析师", "Quality analyst"),
    Role.AREA_MANAGER: ("片区经理", "Area manager"),
    Role.STORE_MANAGER: ("店长", "Store manager"),
    Role.INSPECTOR: ("暗访员", "Inspector"),
    Role.COMPLAINT_HANDLER: ("客服专员", "Complaint handler"),
    Role.NETWORK_ENGINEER: ("网优工程师", "Network engineer"),
    Role.VIEWER: ("只读用户", "Viewer"),
}


def permissions_of(roles: set[Role] | frozenset[Role]) -> frozenset[Permission]:
    """The union of the permissions of the given roles.

    >>> Permission.MANAGE_USERS in permissions_of({Role.QUALITY_ANALYST})
    False
    """
    out: set[Permission] = set()
    for r in roles:
        out |= ROLE_PERMISSIONS[r]
    return frozenset(out)
