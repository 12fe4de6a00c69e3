"""The ``filterdsl`` command line: one module per command, the engine registry, the report formats.

Nothing below this package parses arguments or prints: the library raises FilterError, and the
commands here turn it into diagnostics on stderr and the exit-code contract (``common``).
"""

from filterdsl.cli.entry import main

__all__ = ["main"]
