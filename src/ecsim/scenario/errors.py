"""Errors in a scenario file: each names the file, the line and the field, and what was expected."""

from __future__ import annotations


class ScenarioError(Exception):
    """A scenario file that cannot run. Nothing of it has run."""

    def __init__(self, file: str, line: int | None, field: str, message: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"
