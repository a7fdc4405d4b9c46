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
