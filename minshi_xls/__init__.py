"""minshi_xls: the monthly reporting cycle of a city's livelihood projects (民生实事)."""

__version__ = "0.1.0"


class MinshiError(Exception):
    """A problem that stops a command (bad usage, unreadable input): the CLI exits 2 with it.

    The message is Chinese, for the clerk. Data problems are never raised: they are Issues.
    """


def data_path(name: str):
    """Path of a file shipped in the package's data folder (the bundled notice, registry)."""
    from pathlib import Path
    return Path(__file__).resolve().parent / "data" / name
