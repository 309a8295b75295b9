"""Users administration and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from sqm.domain.roles import ROLE_LABELS, Permission, Role
from sqm.services.passwords import hash_password
from sqm.services.scope import Principal
from sqm.services.users import UserRuleError, create_user, grant, manageable
from sqm.store.models import AuditEntry, OrgUnit, RoleGrant, User
from sqm.web.deps import csrf_protect, get_db, load_form, require
from sqm.web.errors import InvalidInput, NotFound
from sqm.web.templating import render, request_locale

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)
admin = require(Permission.MANAGE_USERS)
auditor = require(Permission.VIEW_AUDIT)
PAGE = 50


def _user(db: Session, p: Principal, uid: int) -> User:
    u = db.get(User, uid)
    if u is None or not manageable(p, u):
        raise NotFound("no such user in your scope")
    return u


def _roles(locale: str) -> list[tuple[str, str]]:
    li = 0 if locale == "zh" else 1
    return [(r.value, ROLE_LABELS[r][li]) for r in Role]


@router.get("/admin/users")
def users(
    request: Request, p: Principal = Depends(admin), db: Session = Depends(get_db)
) -> Response:
    rows = [u for u in db.scalars(select(User).order_by(User.username)) if manageable(p, u)]
    li = 0 if request_locale(request) == "zh" else 1
    labels = {r.value: ROLE_LABELS[r][li] for r in Role}
    return render(request, "admin/users.html", {"users": rows, "role_labels": labels})


@router.get("/admin/users/new")
def new_user_form(request: Request, p: Principal = Depends(admin)) -> Response:
    return render(
        request, "admin/user_new.html", {"roles": _roles(request_locale(request)), "error": None}
    )


@router.post("/admin/users/new")
def new_user(
    request: Request,
    username: str = Form(...),
    display_name: str = Form(""),
    password: str = Form(...),
    role: str = Form(...),
    scope_code: str = Form(...),
    p: Principal = Depends(admin),
    db: Session = Depends(get_db),
) -> Response:
    unit = db.scalar(select(OrgUnit).where(OrgUnit.code == scope_code.strip()))
    try:
        if role not in {r.value for r in Role}:
            raise UserRuleError(f"role '{role}' is not known")
        if unit is None or not p.sees(unit):
            raise UserRuleError(f"scope: no org unit '{scope_code}' in your scope")
        with db.begin_nested():
            user = create_user(db, username, password, display_name)
            grant(db, p, user, Role(role), unit)
    except UserRuleError as exc:
        return render(
            request,
            "admin/user_new.html",
            {"roles": _roles(request_locale(request)), "error": str(exc)},
            status_code=422,
        )
    return RedirectResponse(f"/admin/users/{user.id}", status_code=303)


@router.get("/admin/users/{uid}")
def user_detail(
    request: Request, uid: int, p: Principal = Depends(admin), db: Session = Depends(get_db)
) -> Response:
    u = _user(db, p, uid)
    li = 0 if request_locale(request) == "zh" else 1
    labels = {r.value: ROLE_LABELS[r][li] for r in Role}
    return render(
        request,
        "admin/user.html",
        {"user": u, "roles": _roles(request_locale(request)), "role_labels": labels},
    )


@router.post("/admin/users/{uid}")
def update_user(
    uid: int,
    display_name: str = Form(""),
    active: str = Form(""),
    new_password: str = Form(""),
    p: Principal = Depends(admin),
    db: Session = Depends(get_db),
) -> Response:
    u = _user(db, p, uid)
    u.display_name = display_name.strip()
    if u.id != p.user_id:  # nobody locks themselves out
        u.active = bool(active)
    if new_password:
        try:
            u.password_hash = hash_password(new_password)
        except ValueError as exc:
            raise InvalidInput(f"new_password: {exc}") from exc
    return RedirectResponse(f"/admin/users/{u.id}", status_code=303)


@router.post("/admin/users/{uid}/grants")
def add_grant(
    uid: int,
    role: str = Form(...),
    scope_code: str = Form(...),
    p: Principal = Depends(admin),
    db: Session = Depends(get_db),
) -> Response:
    u = _user(db, p, uid)
    unit = db.scalar(select(OrgUnit).where(OrgUnit.code == scope_code.strip()))
    if role not in {r.value for r in Role}:
        raise InvalidInput(f"role: '{role}' is not known")
    if unit is None or not p.sees(unit):
        raise InvalidInput(f"scope_code: no org unit '{scope_code}' in your scope")
    grant(db, p, u, Role(role), unit)
    return RedirectResponse(f"/admin/users/{u.id}", status_code=303)


@router.post("/admin/users/{uid}/grants/{gid}/delete")
def remove_grant(
    uid: int, gid: int, p: Principal = Depends(admin), db: Session = Depends(get_db)
) -> Response:
    u = _user(db, p, uid)
    g = db.get(RoleGrant, gid)
    if g is None or g.user_id != u.id:
        raise NotFound("no such grant")
    db.delete(g)
    return RedirectResponse(f"/admin/users/{u.id}", status_code=303)


@router.get("/admin/audit")
def audit_log(
    request: Request,
    entity: str = "",
    user: str = "",
    page: int = 1,
    p: Principal = Depends(auditor),
    db: Session = Depends(get_db),
) -> Response:
    stmt = select(AuditEntry)
    if not _root_scoped(db, p):
        # Outside the company level, one sees one's own actions and changes to units in scope.
        in_scope = select(cast(OrgUnit.id, String)).where(p.unit_filter())
        stmt = stmt.where(
            or_(
                AuditEntry.user_id == p.user_id,
                (AuditEntry.entity == "org_unit") & AuditEntry.entity_id.in_(in_scope),
            )
        )
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if user:
        stmt = stmt.where(AuditEntry.username == user)
    page = max(page, 1)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        db.scalars(stmt.order_by(AuditEntry.id.desc()).offset((page - 1) * PAGE).limit(PAGE))
    )
    entities = [
        e for (e,) in db.execute(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity))
    ]
    return render(
        request,
        "admin/audit.html",
        {
            "rows": rows,
            "entity": entity,
            "user": user,
            "page": page,
            "pages": max(1, -(-total // PAGE)),
            "total": total,
            "entities": entities,
        },
    )


def _root_scoped(db: Session, p: Principal) -> bool:
    roots = db.scalars(select(OrgUnit.path).where(OrgUnit.parent_id.is_(None))).all()
    return any(r in p.scope_paths for r in roots)
