"""The ``minshi`` command: a thin layer over the library.

Each command parses options, calls one library function, prints its summary. A MinshiError
becomes exit code 2 with its Chinese message; data problems found give exit code 1.
"""
from __future__ import annotations

import contextlib
import functools
import os
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

@contextlib.contextmanager
def progress_bar(label: str):
    """A ``progress(done, total, item)`` callback drawing a click progress bar on stderr; the bar
    opens on the first call because only the library knows the total."""
    state = {}

    def progress(done, total, item=None):
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state["bar"].pos)
    try:
        yield progress
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


@cli.command("templates")
@click.argument("master", required=False, default=settings.DEFAULT_MASTER,
                type=click.Path(dir_okay=False))
@PERIOD_OPTION
@click.option("-o", "--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="输出文件夹（默认 templates/<月份>/）")
@click.option("--deadline", default=None, help="报送截止日期 YYYY-MM-DD（默认次月配置的 deadline_day 日）")
@DB_OPTION
@CONFIG_OPTION
@fatal_as_exit2
def templates_cmd(master, period, out_dir, deadline, db, config_path):
    """生成各单位本月的填报表（每单位一份）和分发清单。

    MASTER 为总表路径（默认 output/master.xlsx）；台账中有上月审核数时自动预填“上月累计”。
    """
    from minshi_xls import templates
    with progress_bar("生成填报表") as progress:
        s = templates.generate(master, period, out_dir, deadline, db, config_path, progress)
    click.echo(f"已生成 {s.workbooks} 份填报表，共 {s.rows} 行，截止日期 {s.deadline.isoformat()}，"
               f"保存在 {s.out_dir}{os.sep}")
    click.echo(f"分发清单：{s.distribution}")
    missing = s.units_without_email
    if missing:
        click.echo(f"未登记邮箱的单位 {len(missing)} 个（需另行发送）：{'、'.join(missing)}")
    else:
        click.echo("所有单位均已登记邮箱。")


# --- collect / check (issue 4) ---------------------------------------------------------------

# --- reconcile / summary / status / demo (issue 5) -------------------------------------------

# --- send / fetch / remind (issue 6) ---------------------------------------------------------
