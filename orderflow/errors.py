"""The base of every domain error: a message meant for the person, and a stable code for the API."""


class DomainError(Exception):
    """Raised by a service when a request cannot be done; views show `message`, the API returns `code`."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return str(self.message)
