"""Domain exceptions. No Flask here, so pure code and services can raise them; http.py maps them to responses."""


class OncallError(Exception):
    """Base of every error the API reports on purpose."""

    def __init__(self, message: str, *, fields: dict | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class NotFound(OncallError):
    pass


class Conflict(OncallError):
    pass


class Invalid(OncallError):
    """Input that is well formed but breaks a rule that needs the database to check."""


class Unauthorized(OncallError):
    pass


class Forbidden(OncallError):
    pass


class DeliveryFailed(OncallError):
    pass


class TransientDeliveryFailure(DeliveryFailed):
    """The provider may accept the same request later (timeouts, 429, 5xx): retry with backoff."""
