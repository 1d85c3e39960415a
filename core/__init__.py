"""routermon.core: the cascade router, the call log, prices, analysis and the stand-in API.

This package never imports Textual, plotext or click. ``routermon.core.observe`` (an ``anthropic``
client logged and shadowed in-process, ``workspace.observe``) is loaded on first use, so importing
the package does not import the ``anthropic`` SDK.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("routermon")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0"


def __getattr__(name: str):
    if name == "observe":
        from .workspace import observe

        return observe
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
