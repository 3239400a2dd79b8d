"""The HTTP edge of errors: every failure under /api answers the one JSON error shape."""
import logging

from flask import Flask, current_app, request
from marshmallow import Schema, ValidationError, fields
from werkzeug.exceptions import HTTPException, InternalServerError

from oncall.errors import Conflict, DeliveryFailed, Forbidden, Invalid, NotFound, OncallError, Unauthorized

log = logging.getLogger(__name__)

STATUS = {NotFound: 404, Conflict: 409, Invalid: 422, Unauthorized: 401, Forbidden: 403, DeliveryFailed: 502}


class ErrorDetailSchema(Schema):
    code = fields.String(metadata={"description": "Machine-readable error name, e.g. ValidationError"})
    message = fields.String()
    fields_ = fields.Dict(data_key="fields", metadata={"description": "Messages per offending field"})


class ErrorSchema(Schema):
    """The one error shape of the API (documented in OpenAPI as every operation's default response)."""

    error = fields.Nested(ErrorDetailSchema, required=True)


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
    # The exception's own headers carry what its status requires (RFC 9110 15.5.6: a 405 lists the methods
    # the resource allows in Allow); only its HTML content type is replaced by the JSON body.
    headers = {key: value for key, value in error.get_headers() if key.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    if error.code == 422 and "messages" in data:
        return error_body("ValidationError", "Invalid request.", _flatten_webargs(data["messages"])), 422, headers
    if isinstance(error, InternalServerError) or error.code == 500:
        return error_body("InternalServerError", "Internal server error."), 500, headers
    code = error.name.replace(" ", "")
    return error_body(code, data.get("message") or error.description or error.name), error.code or 500, headers


def require_patch_body() -> tuple[dict, int] | None:
    """A PATCH says what to change: without a JSON object naming at least one field it is a client's mistake
    (an empty or mislabelled body), which would otherwise answer 200 having changed nothing. Registered after
    authentication, so an unauthenticated caller learns nothing from it."""
    if request.method != "PATCH" or not request.path.startswith("/api/"):
        return None
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict) and body:
        return None
    return error_body("ValidationError", "Invalid request.", {"_schema": [
        "Send a JSON object (Content-Type: application/json) with at least one field to change."]}), 422


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(OncallError)
    def domain_error(e: OncallError):
        status = STATUS.get(type(e), 400)
        # RFC 9110 11.6.1 and RFC 6750 3: a 401 names the scheme that would be accepted.
        headers = {"WWW-Authenticate": 'Bearer realm="oncall"'} if status == 401 else {}
        return error_body(type(e).__name__, str(e), e.fields), status, headers

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
