"""The one exception for mistakes in how a command was called."""


class UsageError(Exception):
    """Printed as one line, without a traceback; the command exits 2."""
