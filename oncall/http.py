"""The HTTP edge of errors: every failure under /api answers the one JSON error shape."""
import logging

from flask import Flask, current_app, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

from oncall.errors import Conflict, DeliveryFailed, Forbidden, Invalid, NotFound, OncallError, Unauthorized

log = logging.getLogger(__name__)

STATUS = {NotFound: 404, Conflict: 409, Invalid: 422, Unauthorized: 401, Forbidden: 403, DeliveryFailed: 502}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten_webargs(messages: dict) -> dict:
    # webargs nests messages by location ({"json": {...}, "query": {...}}); clients care about field names.
    if all(loc in {"json", "query", "form", "headers", "path", "view_args"} for loc in messages):
        flat: dict = {}
        for per_location in messages.values():
            if isinstance(per_location, dict):
                flat.update(per_location)
            else:
                flat.setdefault("_schema", []).extend(per_location)
        return flat
    return messages


def http_exception_body(error: HTTPException) -> tuple[dict, int, dict]:
    """Used by the flask-smorest Api subclass so webargs' 422s carry our shape too."""
    data = getattr(error, "data", None) or {}
    headers = data.get("headers") or {}
    if error.code == 422 and "messages" in data:
        return error_body("ValidationError", "Invalid request.", _flatten_webargs(data["messages"])), 422, headers
    if isinstance(error, InternalServerError) or error.code == 500:
        return error_body("InternalServerError", "Internal server error."), 500, headers
    code = error.name.replace(" ", "")
    return error_body(code, data.get("message") or error.description or error.name), error.code or 500, headers


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(OncallError)
    def domain_error(e: OncallError):
        return error_body(type(e).__name__, str(e), e.fields), STATUS.get(type(e), 400)

    @app.errorhandler(ValidationError)
    def invalid(e: ValidationError):
        messages = e.messages if isinstance(e.messages, dict) else {"_schema": e.messages}
        return error_body("ValidationError", "Invalid request.", messages), 422

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        if isinstance(e, HTTPException):
            body, status, headers = http_exception_body(e)
            if not request.path.startswith("/api/") and status != 500:
                return e
            return body, status, headers
        if current_app.testing:
            raise e
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_body("InternalServerError", "Internal server error."), 500
