"""The exception classes of the official client (algorithmia 2.0.5, Algorithmia/errors.py), by name
and constructor, so `except Algorithmia.errors.AlgorithmException` works the same inside Beacon."""


class ApiError(Exception):
    """A platform-level failure: the call did not reach the algorithm (HTTP 4xx)."""


class ApiInternalError(ApiError):
    """The platform failed (HTTP 5xx)."""


class DataApiError(ApiError):
    """The data API is not offered inside Beacon workers."""


class AlgorithmException(ApiError):
    """The called algorithm raised: its message, stack trace and error type."""

    def __init__(self, message, stack_trace=None, error_type=None):
        self.message = message
        self.stack_trace = stack_trace
        self.error_type = error_type
        super().__init__(message)
