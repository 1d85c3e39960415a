"""routermon.core: the cascade router, the call log, prices, analysis and the stand-in API.

This package never imports Textual, plotext or click.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("routermon")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0"
