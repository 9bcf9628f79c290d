"""Errors raised by sequences: each message names the file or sequence and the field to fix."""

from __future__ import annotations


class SequenceError(ValueError):
    """A sequence problem a user can fix without reading a traceback; `errors` lists each one."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        self.errors = list(errors or [])
        if self.errors:
            count = len(self.errors)
            lines = [f"{message}: {count} problem{'s' if count != 1 else ''}"]
            lines += [f"  {error}" for error in self.errors]
            message = "\n".join(lines)
        super().__init__(message)
