"""Path objects of the foundation pages: a user the admin manages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from sqm.services.users import visible_user
from sqm.store.models import User
from sqm.web.deps import Db
from sqm.web.permissions import UserAdmin


def _user_in_scope(p: UserAdmin, uid: Annotated[int, Path(ge=1, le=2**63 - 1)], db: Db) -> User:
    return visible_user(db, p, uid)


UserInScope = Annotated[User, Depends(_user_in_scope)]
"""The user of the path's ``{uid}`` whom the signed-in admin manages (every grant of the
user lies in the admin's scope); 404 otherwise, 403 without the permission."""
