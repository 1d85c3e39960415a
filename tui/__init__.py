"""routermon.tui: the ``routermon`` command and the Textual app over ``routermon.core``."""

import sys


def run() -> None:
    """The ``routermon`` console script. Ctrl-C at any moment, while modules load too, ends with one
    line on stderr and exit code 130."""
    try:
        from .cli import main

        main()
    except KeyboardInterrupt:  # before the group's own handler is in place, or after it
        print("routermon: interrupted.", file=sys.stderr)
        sys.exit(130)
