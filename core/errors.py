"""Errors that services raise; the API and the pages turn them into 400 / 409 answers."""


class DomainError(Exception):
    """Bad input or a broken business rule: nothing was stored."""

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.extra = extra


class Conflict(DomainError):
    """The request clashes with the current state (409)."""


class Forbidden(DomainError):
    """The user may see the object but not take this action (403)."""
