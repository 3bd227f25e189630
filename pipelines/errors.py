"""The one exception type for paperlake's expected failures."""


class PaperlakeError(Exception):
    """A failure the user can act on; the CLI prints its message, not a traceback."""
