"""The main navigation. Each capability appends its entries (one line each)."""

from __future__ import annotations

from dataclasses import dataclass

from sqm.domain.roles import Permission


@dataclass(frozen=True)
class NavItem:
    label: str  # English msgid, translated at render time
    href: str
    permission: Permission | None = None


NAV: list[NavItem] = [
    NavItem("Home", "/"),
    NavItem("Organisation", "/org", Permission.VIEW_ORG),
    NavItem("Scores", "/scores", Permission.VIEW_SCORES),
    NavItem("Indicator system", "/indicators", Permission.VIEW_INDICATORS),
    NavItem("Weight profiles", "/weights", Permission.VIEW_INDICATORS),
    NavItem("Import / export", "/imports", Permission.EDIT_ORG),
    NavItem("Network", "/network", Permission.VIEW_NETWORK),
    NavItem("Inspections", "/inspections", Permission.VIEW_SCORES),
    NavItem("My visits", "/inspections/my", Permission.DO_INSPECTIONS),
    NavItem("Complaints", "/complaints", Permission.HANDLE_COMPLAINTS),
    NavItem("Complaint dashboard", "/complaints/dashboard", Permission.VIEW_SCORES),
    NavItem("Complaint alerts", "/complaints/alerts", Permission.VIEW_SCORES),
    NavItem("Customer surveys", "/surveys", Permission.VIEW_SCORES),
    NavItem("Survey design", "/survey-design", Permission.MANAGE_SURVEYS),
    NavItem("Users", "/admin/users", Permission.MANAGE_USERS),
    NavItem("Audit log", "/admin/audit", Permission.VIEW_AUDIT),
]
