"""Errors that the command line turns into a one-line message and exit status 2."""


class UserError(ValueError):
    """Bad input from the user (parameters, files, options): reported in one line, exit 2."""
