"""Request bodies at the edge: a size limit per path, answered 413 before anything reads the body, and JSON
bodies read only once the caller is authenticated, refused (400) when no request shape could be that deep
or when Python cannot turn them into values at all."""
import json

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from oncall.http import error_body

ALERTMANAGER_PATH = "/api/v1/integrations/alertmanager"
# The deepest request shape is about five levels (an escalation policy's steps, their targets); an
# Alertmanager payload four. Anything much deeper is an attack on the recursion of the parsers behind us.
MAX_JSON_DEPTH = 32


def init_app(app: Flask) -> None:
    # Before every other hook: nothing may read a body before its size is known to be acceptable.
    app.before_request_funcs.setdefault(None, []).insert(0, limit_body_size)


def body_limit(path: str) -> int:
    """Bytes a request to `path` may send. Alertmanager groups up to 1,000 alerts (the schema's cap) in one
    notification; Twilio's webhooks are small forms; everything else (forms, API bodies) fits in 1 MiB."""
    config = current_app.config
    if path == ALERTMANAGER_PATH:
        return int(config["ALERTMANAGER_MAX_CONTENT_LENGTH"])
    if path.startswith("/twilio/"):
        return int(config["TWILIO_MAX_CONTENT_LENGTH"])
    return int(config["MAX_CONTENT_LENGTH"])


def limit_body_size() -> None:
    """413 at once when the declared length is over the limit; a body without a declared length (chunked)
    is cut off by werkzeug with a 413 as soon as reading it passes the limit."""
    limit = body_limit(request.path)
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"Request bodies here are limited to {limit} bytes.")


def _unstorable(value: str) -> bool:
    # PostgreSQL text cannot hold NUL, and lone surrogates (legal in JSON escapes) cannot be UTF-8 encoded.
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _find_unstorable(body) -> str | None:
    """The field holding text no column can store ("" for the top level), walking without recursion.
    Raises BadRequest when the body is nested deeper than MAX_JSON_DEPTH."""
    stack = [(body, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(value, str):
            if _unstorable(value):
                return path
        elif isinstance(value, dict):
            for key, item in value.items():
                if _unstorable(key):
                    return path or "_schema"
                stack.append((item, key if not path else f"{path}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, path, depth + 1) for item in value)
    return None


def _refused(field: str) -> tuple[dict, int]:
    return error_body("ValidationError", "Invalid request.", {field: ["Contains characters that are not allowed."]}), 422


def check_request() -> tuple[dict, int] | None:
    """Called by whoever authenticates an API request, right after: refuse query text and JSON bodies the
    views could not handle, before any view or schema parses them. Raises BadRequest (400) for a JSON body
    that cannot be read; answers 422 for text no database column can store."""
    if not request.path.startswith("/api/"):
        return None
    for key, value in request.args.items(multi=True):
        if _unstorable(key) or _unstorable(value):
            return _refused(key)
    if not request.is_json:
        return None
    data = request.get_data(cache=True)  # bounded by limit_body_size
    if not data.strip():
        return None
    try:
        body = json.loads(data)
    except RecursionError:
        # json's scanner refuses nesting past the interpreter's recursion limit; MAX_JSON_DEPTH below that.
        raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc.msg} at character {exc.pos}.") from None
    except ValueError:
        # Bad UTF-8, or a number longer than int() takes (4,300 digits): no request has either.
        raise BadRequest("The body is not valid JSON: it is not UTF-8 or holds a number too long to read.") from None
    field = _find_unstorable(body)
    if field is not None:
        return _refused(field or "_schema")
    return None
