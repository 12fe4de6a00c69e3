"""``python -m filterdsl.cli``: the same as the ``filterdsl`` command."""

from filterdsl.cli.entry import main

main()
