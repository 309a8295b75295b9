"""Password hashing (Argon2id, the OWASP recommendation) and the password policy."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Modest cost: logins stay fast on a 2-core server while hashes stay expensive to crack.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


MIN_LENGTH = 12
MAX_LENGTH = 256

# The most used passwords of the public leak lists (SecLists' top passwords, the Chinese
# lists of the CSDN / 12306 leaks) and the words they are built from; a password is
# refused when it is one of them once trailing digits and symbols are taken off
# ("Password2026!" is "password").
COMMON_PASSWORDS = frozenset(
    [
        "123456",
        "1234567",
        "12345678",
        "123456789",
        "1234567890",
        "111111",
        "000000",
        "666666",
        "888888",
        "112233",
        "123123",
        "654321",
        "121212",
        "123321",
        "147258369",
        "159753",
        "5201314",
        "520520",
        "woaini",
        "woaini1314",
        "iloveyou",
        "password",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "password1",
        "qwerty",
        "qwertyuiop",
        "qwerty123",
        "asdfgh",
        "asdfghjkl",
        "zxcvbnm",
        "1qaz2wsx",
        "1q2w3e4r",
        "1q2w3e4r5t",
        "qazwsx",
        "abc123",
        "abcd1234",
        "aa123456",
        "a123456",
        "a12345678",
        "admin",
        "admin123",
        "administrator",
        "root",
        "toor",
        "letmein",
        "welcome",
        "welcome1",
        "changeme",
        "default",
        "guest",
        "test",
        "test123",
        "testing",
        "master",
        "monkey",
        "dragon",
        "football",
        "baseball",
        "sunshine",
        "princess",
        "shadow",
        "superman",
        "trustno1",
        "secret",
        "secret123",
        "login",
        "access",
        "hello",
        "hello123",
        "iloveyou1",
        "china",
        "beijing",
        "shanghai",
        "guangzhou",
        "shenzhen",
        "huawei",
        "xiaomi",
        "telecom",
        "chinatelecom",
        "chinamobile",
        "chinaunicom",
        "dianxin",
        "yidong",
        "liantong",
        "sqm",
        "sqmadmin",
        "service",
        "quality",
        "servicequality",
        "zhangwei",
        "wangwei",
        "liwei",
    ]
)


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` may not be used (by the user ``username``), or None when it may:
    at least :data:`MIN_LENGTH` characters, not a common password, not the user name.

    >>> password_problem("short")
    'password must have at least 12 characters'
    >>> password_problem("Password2026!")
    'password is too common'
    >>> password_problem("zhang.wei-2026", "zhang.wei")
    'password must not contain the user name'
    >>> password_problem("quiet-harbour-lantern") is None
    True
    """
    if len(password) < MIN_LENGTH:
        return f"password must have at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"password must have at most {MAX_LENGTH} characters"
    low = password.lower()
    if len(set(low)) < 4:
        return "password has too few different characters"
    core = re.sub(r"[\W\d_]+$", "", low)
    if low in COMMON_PASSWORDS or core in COMMON_PASSWORDS or not core.strip("0123456789"):
        return "password is too common"
    name = username.strip().lower()
    if len(name) >= 3 and name in low:
        return "password must not contain the user name"
    return None


def hash_password(password: str, username: str = "") -> str:
    """An Argon2id hash of ``password`` (salted; two calls give different hashes); a
    password the policy refuses (:func:`password_problem`) raises ``ValueError``."""
    problem = password_problem(password, username)
    if problem is not None:
        raise ValueError(problem)
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(24))


def verify_nobody(password: str) -> bool:
    """Spend the time a real verification takes and say no: a sign-in with an unknown or
    deactivated user name must take as long as one with a wrong password, or the timing
    tells which names exist."""
    verify_password(_dummy_hash(), password)
    return False


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``.

    >>> verify_password(hash_password("quiet-harbour-lantern"), "quiet-harbour-lantern")
    True
    """
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
