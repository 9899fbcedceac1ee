"""The ``minshi`` command: a thin layer over the library.

Each command parses options, calls one library function, prints its summary. A MinshiError
becomes exit code 2 with its Chinese message; data problems found give exit code 1.
"""
from __future__ import annotations

import functools
import sys

import click

from minshi_xls import MinshiError, __version__
from minshi_xls import settings

MASTER_OPTION = click.option("--master", default=settings.DEFAULT_MASTER, show_default=True,
                             type=click.Path(dir_okay=False), help="总表（master.xlsx）路径")
DB_OPTION = click.option("--db", default=settings.DEFAULT_DB, show_default=True,
                         type=click.Path(dir_okay=False), help="台账数据库（SQLite）路径")
PERIOD_OPTION = click.option("--period", required=True, help="填报月份，如 2024-06")
CONFIG_OPTION = click.option("--config", "config_path", default=None,
                             type=click.Path(dir_okay=False),
                             help="配置文件（默认当前目录下的 minshi.toml）")


def fatal_as_exit2(fn):
    """Turn a MinshiError into a clean Chinese message and exit code 2."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MinshiError as e:
            raise click.ClickException(str(e)) from e
    return wrapper


class _Exit2Group(click.Group):
    def main(self, *args, **kwargs):
        # ClickException exits 1 by default; our contract says usage/fatal problems are 2.
        click.ClickException.exit_code = 2
        return super().main(*args, **kwargs)


@click.group(cls=_Exit2Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="minshi")
def cli():
    """民生实事月度填报：导入通知 → 生成填报表 → 发送 → 收取 → 校验 → 汇总。

    The monthly reporting cycle of a city's livelihood projects (民生实事).
    """


def main():  # console-script entry point
    cli(prog_name="minshi")


# --- import / master (issue 2) ---------------------------------------------------------------

# --- templates (issue 3) ---------------------------------------------------------------------

# --- collect / check (issue 4) ---------------------------------------------------------------

# --- reconcile / summary / status / demo (issue 5) -------------------------------------------

# --- send / fetch / remind (issue 6) ---------------------------------------------------------
