"""evobot: keeps generated services in step with the templates they were generated from."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("evobot")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
