"""OpenAI-shaped error answers: ``{"error": {"message", "type", "param", "code"}}``.

Rule: bad input is always a 4xx with one of these bodies, never a traceback and never a 500.
``ApiError`` is raised by the pure request parser; only the app turns it into a response.
"""

from __future__ import annotations

import orjson

INVALID_REQUEST = "invalid_request_error"


class ApiError(Exception):
    """A request the mock refuses, with the HTTP status and the OpenAI error fields."""

    def __init__(self, status: int, message: str, param: str | None = None,
                 code: str | None = None, type_: str = INVALID_REQUEST,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = type_

    def to_dict(self) -> dict[str, dict[str, str | None]]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param,
                          "code": self.code}}

    def body(self) -> bytes:
        return orjson.dumps(self.to_dict())


def invalid(param: str, message: str, code: str = "invalid_value") -> ApiError:
    """400 for a parameter with a bad value or type."""
    return ApiError(400, message, param=param, code=code)


def from_http_status(status: int, reason: str) -> ApiError:
    """Wrap aiohttp's own HTTP errors (unknown route, wrong method, body too large) the same way."""
    codes = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
    return ApiError(status, reason, code=codes.get(status, "http_error"))
