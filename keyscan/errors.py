"""Exceptions that the CLI's error boundary turns into exit codes."""
from __future__ import annotations


class KeyscanError(Exception):
    """A user-facing error: bad input, bad config, bad rule file. Exit code 2.

    The message is one line and names the file or option at fault. It must
    never contain a secret.
    """

    exit_code = 2


class RuleFileError(KeyscanError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
