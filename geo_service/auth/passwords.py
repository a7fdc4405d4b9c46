"""Password hashing with Argon2id through pwdlib (parameters from the library's defaults)."""

from __future__ import annotations

from functools import cache

from pwdlib import PasswordHash

from geo_service.errors import InvalidParameterError

MIN_LENGTH = 12
MAX_LENGTH = 256


@cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def check_strength(password: str) -> None:
    """A password of at least 12 characters (the ANSSI's advice for a password alone)."""
    if len(password) < MIN_LENGTH:
        raise InvalidParameterError(f"Mot de passe trop court : au moins {MIN_LENGTH} caractères.")
    if len(password) > MAX_LENGTH:
        raise InvalidParameterError(f"Mot de passe trop long : au plus {MAX_LENGTH} caractères.")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher().hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    """True when the password matches; a missing hash still costs one hash (no timing oracle)."""
    if len(password) > MAX_LENGTH:
        return False
    if not hashed:
        _hasher().hash(password)
        return False
    return _hasher().verify(password, hashed)
