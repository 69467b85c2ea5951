"""API errors: the error types and messages the API answers with for each
HTTP status, the error body, and the exceptions that end a request.
"""


ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error",
    402: "billing_error", 403: "permission_error", 404: "not_found_error",
    405: "invalid_request_error", 408: "timeout_error",
    409: "conflict_error", 413: "request_too_large",
    422: "invalid_request_error", 429: "rate_limit_error",
    500: "api_error", 502: "api_error", 503: "api_error",
    504: "timeout_error", 529: "overloaded_error",
}
ERROR_MESSAGES = {
    400: "Invalid request", 401: "invalid x-api-key",
    402: "Your credit balance is too low", 403: "Permission denied",
    404: "Not found", 405: "Method not allowed", 408: "Request timeout",
    409: "Conflict", 413: "Request exceeds the maximum allowed size",
    422: "Unprocessable entity",
    429: "Number of requests has exceeded your rate limit",
    500: "Internal server error", 502: "Bad gateway",
    503: "Service unavailable", 504: "Gateway timeout", 529: "Overloaded",
}
REASONS = {529: "Overloaded", 413: "Payload Too Large"}


def error_body(etype, message, rid, code=None):
    err = {"type": etype, "message": message}
    if code:
        err["details"] = {"error_code": code}
    return {"type": "error", "error": err, "request_id": rid}


class APIError(Exception):
    def __init__(self, status, message, etype=None, code=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.etype = etype or ERROR_TYPES.get(status, "api_error")
        self.code = code
        self.headers = headers or {}


class ClientGone(Exception):
    """The peer went away, or the request is not readable: close."""


class StreamEnded(Exception):
    """A stream fault ended the response early (already handled)."""
