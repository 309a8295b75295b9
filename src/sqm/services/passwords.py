"""Password hashing (Argon2id, the OWASP recommendation)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Modest cost: logins stay fast on a 2-core server while hashes stay expensive to crack.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (salted; two calls give different hashes)."""
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``.

    >>> verify_password(hash_password("s3cret-pass"), "s3cret-pass")
    True
    """
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
