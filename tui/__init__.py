"""routermon.tui: the ``routermon`` command and the Textual app over ``routermon.core``."""

import sys

INTERRUPTED = "routermon: interrupted."


def run() -> None:
    """The ``routermon`` console script. Ctrl-C at any moment, while modules load too, ends with one
    line on stderr and exit code 130."""
    try:
        from .cli import main

        main()
    except KeyboardInterrupt:  # before the group's own handler is in place, or after it
        _interrupted()
    except RuntimeError as exc:
        # Ctrl-C while a class body runs during an import surfaces wrapped ("Error calling
        # __set_name__ …"), with the KeyboardInterrupt as its cause.
        if _caused_by_interrupt(exc):
            _interrupted()
        raise


def _caused_by_interrupt(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _interrupted() -> None:
    print(INTERRUPTED, file=sys.stderr)
    sys.exit(130)
