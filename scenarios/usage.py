"""The one exception for mistakes in how a command was called."""

from protocol.errors import SharesimError


class UsageError(SharesimError):
    """Printed as one line, without a traceback; the command exits 2."""
