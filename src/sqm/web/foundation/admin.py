"""Users administration and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from sqm.domain.roles import ROLE_LABELS, Role
from sqm.services.audit_log import audit_page
from sqm.services.users import (
    UserRuleError,
    create_user_with_grant,
    grant_by_code,
    manageable_users,
    revoke,
    update_user,
)
from sqm.web.deps import Db, csrf_protect, load_form
from sqm.web.foundation.deps import UserInScope
from sqm.web.permissions import Auditor, UserAdmin
from sqm.web.templating import render, request_locale

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)


class NewUserForm(BaseModel):
    username: str
    display_name: str = ""
    password: str
    role: str
    scope_code: str


class UserForm(BaseModel):
    display_name: str = ""
    active: str = ""
    new_password: str = ""


class GrantForm(BaseModel):
    role: str
    scope_code: str


def _roles(locale: str) -> list[tuple[str, str]]:
    li = 0 if locale == "zh" else 1
    return [(r.value, ROLE_LABELS[r][li]) for r in Role]


def _role_labels(request: Request) -> dict[str, str]:
    li = 0 if request_locale(request) == "zh" else 1
    return {r.value: ROLE_LABELS[r][li] for r in Role}


@router.get("/admin/users")
def users(request: Request, p: UserAdmin, db: Db) -> Response:
    rows = manageable_users(db, p)
    return render(
        request, "admin/users.html", {"users": rows, "role_labels": _role_labels(request)}
    )


@router.get("/admin/users/new")
def new_user_form(request: Request, p: UserAdmin) -> Response:
    return render(
        request, "admin/user_new.html", {"roles": _roles(request_locale(request)), "error": None}
    )


@router.post("/admin/users/new")
def new_user(
    request: Request, p: UserAdmin, form: Annotated[NewUserForm, Form()], db: Db
) -> Response:
    try:
        user = create_user_with_grant(db, p, **form.model_dump())
    except UserRuleError as exc:
        return render(
            request,
            "admin/user_new.html",
            {"roles": _roles(request_locale(request)), "error": str(exc)},
            status_code=422,
        )
    return RedirectResponse(f"/admin/users/{user.id}", status_code=303)


@router.get("/admin/users/{uid}")
def user_detail(request: Request, p: UserAdmin, u: UserInScope) -> Response:
    return render(
        request,
        "admin/user.html",
        {"user": u, "roles": _roles(request_locale(request)), "role_labels": _role_labels(request)},
    )


@router.post("/admin/users/{uid}")
def update(p: UserAdmin, u: UserInScope, form: Annotated[UserForm, Form()], db: Db) -> Response:
    update_user(
        db,
        p,
        u,
        display_name=form.display_name,
        active=bool(form.active),
        new_password=form.new_password,
    )
    return RedirectResponse(f"/admin/users/{u.id}", status_code=303)


@router.post("/admin/users/{uid}/grants")
def add_grant(p: UserAdmin, u: UserInScope, form: Annotated[GrantForm, Form()], db: Db) -> Response:
    grant_by_code(db, p, u, form.role, form.scope_code)
    return RedirectResponse(f"/admin/users/{u.id}", status_code=303)


@router.post("/admin/users/{uid}/grants/{gid}/delete")
def remove_grant(
    p: UserAdmin, u: UserInScope, gid: Annotated[int, Path(ge=1, le=2**63 - 1)], db: Db
) -> Response:
    revoke(db, u, gid)
    return RedirectResponse(f"/admin/users/{u.id}", status_code=303)


@router.get("/admin/audit")
def audit_log(
    request: Request, p: Auditor, db: Db, entity: str = "", user: str = "", page: int = 1
) -> Response:
    a = audit_page(db, p, entity=entity, username=user, page=page)
    return render(
        request,
        "admin/audit.html",
        {
            "rows": a.rows,
            "entity": entity,
            "user": user,
            "page": a.page,
            "pages": a.pages,
            "total": a.total,
            "entities": a.entities,
        },
    )
