"""The one exception type for a user's mistake.

Raised anywhere (bad file, bad config, missing device); `run.py` catches it and prints its message as
one line with a non-zero exit, never a traceback. The message names the thing and what to do.
"""


class UserError(Exception):
    """A mistake the user can fix: the message says what is wrong and what to do."""
