"""Domain errors, each carrying a French message; mapped once to HTTP statuses and CLI exits."""

from __future__ import annotations


class GeoServiceError(Exception):
    """Base of every error a user may see; `message` is in French."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(GeoServiceError):
    status_code = 500


class DatabaseProvisioningError(GeoServiceError):
    status_code = 500


class ReferenceDataError(GeoServiceError):
    status_code = 400


class NotFoundError(GeoServiceError):
    status_code = 404


class InvalidParameterError(GeoServiceError):
    status_code = 400


class ImportRejectedError(GeoServiceError):
    """An exchange file was refused; `problems` lists (file, line, column, value, reason)."""

    status_code = 422

    def __init__(self, message: str, problems: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class AuthenticationError(GeoServiceError):
    """No valid session or token (or a disabled account, a revoked token)."""

    status_code = 401


class ForbiddenError(GeoServiceError):
    """Signed in, but this role or this area may not do that."""

    status_code = 403


class ConflictError(GeoServiceError):
    """The object changed since the caller read it; `current` is its state now."""

    status_code = 409

    def __init__(self, message: str, current: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.current = current or {}


class PreconditionRequiredError(GeoServiceError):
    status_code = 428


class PayloadTooLargeError(GeoServiceError):
    status_code = 413


class TooManyRequestsError(GeoServiceError):
    status_code = 429


class FieldValidationError(GeoServiceError):
    """A form or body refused field by field; `fields` maps each field to its French reason."""

    status_code = 422

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("Saisie refusée : " + " ; ".join(f"{k} : {v}" for k, v in fields.items()))
        self.fields = fields
