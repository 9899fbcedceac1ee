"""The ``minshi`` command: a thin layer over the library.

Each command parses options, calls one library function, prints its summary. A MinshiError
becomes exit code 2 with its Chinese message; data problems found give exit code 1.
"""
from __future__ import annotations

import contextlib
import functools
import sys

import click

from minshi_xls import MinshiError, __version__
from minshi_xls import clihelp, settings
from minshi_xls.clihelp import ChineseGroup

MASTER_OPTION = click.option("--master", default=settings.DEFAULT_MASTER, show_default=True,
                             type=click.Path(dir_okay=False), help="总表（master.xlsx）路径")
DB_OPTION = click.option("--db", default=settings.DEFAULT_DB, show_default=True,
                         type=click.Path(dir_okay=False), help="台账数据库（SQLite）路径")
PERIOD_OPTION = click.option("--period", required=True, metavar="YYYY-MM", help="填报月份，如 2024-06")
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
        except OSError as e:  # a full disk or a folder that cannot be written, in any command
            from minshi_xls import faults
            if not faults.is_machine(e):
                raise
            raise click.ClickException(str(faults.from_os_error(e))) from e
    return wrapper


@click.group("minshi", cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="minshi", help=clihelp.VERSION_OPTION,
                      message="%(prog)s %(version)s")
def cli():
    """民生实事月度填报：导入通知 → 生成填报表 → 发送 → 收取 → 校验 → 汇总。"""


def main():  # console-script entry point
    cli(prog_name="minshi")


# --- init (issue 12) ------------------------------------------------------------------------

def _init_options(fn):
    from minshi_xls.init import ASKED
    for (section, key), question in reversed(list(ASKED.items())):
        name = "--office" if (section, key) == ("office", "name") else \
            f"--{key}" if section == "office" else f"--{section}-{key}"
        fn = click.option(name, f"{section}_{key}", default=None, help=question)(fn)
    return fn


@cli.command("init", short_help="准备工作文件夹：写配置文件、导入通知、列出还缺什么、给出下一步命令。")
@_init_options
@click.option("--notice", default=None, type=click.Path(dir_okay=False),
              help="没有总表时导入的通知（默认内置的 2024 年连云港通知）")
@MASTER_OPTION
@CONFIG_OPTION
@click.option("--no-input", is_flag=True, help="不逐项提问，只用命令行给出的设置")
@fatal_as_exit2
def init_cmd(notice, master, config_path, no_input, **given):
    """准备工作文件夹：写配置文件 minshi.toml（办公室、联系人、邮件服务器），没有总表时导入通知，列出还缺什么，给出下一步命令。

    可重复运行：已填写的设置不会被覆盖。
    """
    from pathlib import Path
    from minshi_xls import init
    values = {tuple(k.split("_", 1)): v for k, v in given.items()}
    path = Path(config_path or settings.CONFIG_FILE)
    if not no_input and sys.stdin.isatty():
        for key, question in init.empty_settings(path).items():
            if values.get(key) is None:
                values[key] = click.prompt(question, default="", show_default=False)
    result = init.run(values, path, master, notice)
    for line in result.summary_lines():
        click.echo(line)


# --- import / master (issue 2) ---------------------------------------------------------------

def echo_issues(found) -> None:
    """One line per issue: [错误] 任务!G5 单位未登记：message (the notice's line number as 第N行)."""
    for i in found:
        click.echo(i.line())


@cli.command("import")
@click.argument("notice", required=False, metavar="[通知文件]", type=click.Path(dir_okay=False))
@click.option("-o", "--out", default=settings.DEFAULT_MASTER, show_default=True,
              type=click.Path(dir_okay=False), help="输出的总表（.xlsx）")
@click.option("--json", "json_path", default=None, type=click.Path(dir_okay=False),
              help="同时输出 JSON（UTF-8）")
@click.option("--units", default=None, type=click.Path(dir_okay=False),
              help="单位名册（含“单位”表的 .xlsx 或 .json），代替内置的连云港名册")
@click.option("--force", is_flag=True, help="总表已存在时仍重新导入（先备份原总表）")
@fatal_as_exit2
def import_cmd(notice, out, json_path, units, force):
    """导入民生实事通知（.txt/.docx/.pdf），生成可人工修改的总表。

    通知文件默认为内置的 2024 年连云港通知。总表已存在时不覆盖，除非加 --force。
    """
    from minshi_xls.master import import_notice
    result = import_notice(notice, out, json_path=json_path, units=units, force=force)
    click.echo(result.summary())
    echo_issues(result.issues)
    sys.exit(0 if result.report.valid else 1)


@cli.group("master")
def master_group():
    """总表（master.xlsx）的检查。"""


@master_group.command("check")
@click.argument("file", required=False, default=settings.DEFAULT_MASTER, metavar="[总表]",
                type=click.Path(dir_okay=False))
@fatal_as_exit2
def master_check_cmd(file):
    """检查人工修改后的总表：编号重复、单位未登记、目标不是数字、缺少牵头单位等。

    总表默认为 output/master.xlsx；有错误时退出码为 1。
    """
    from minshi_xls.master import check_master, check_summary
    report = check_master(file)
    click.echo(check_summary(report))
    echo_issues(report.issues)
    sys.exit(0 if report.valid else 1)


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
@click.argument("master", required=False, default=settings.DEFAULT_MASTER, metavar="[总表]",
                type=click.Path(dir_okay=False))
@PERIOD_OPTION
@click.option("-o", "--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="输出文件夹（默认 templates/<月份>/）")
@click.option("--deadline", default=None, metavar="YYYY-MM-DD", help="报送截止日期 YYYY-MM-DD（默认次月配置的 deadline_day 日）")
@DB_OPTION
@CONFIG_OPTION
@click.option("--force", is_flag=True,
              help="年份与总表不符、截止日期不在月底之后、或覆盖已发出的填报表时，仍然生成")
@fatal_as_exit2
def templates_cmd(master, period, out_dir, deadline, db, config_path, force):
    """生成各单位本月的填报表（每单位一份）和分发清单。

    总表默认为 output/master.xlsx；台账中有上月审核数时自动预填“上月累计”。
    """
    from minshi_xls import templates
    with progress_bar("生成填报表") as progress:
        s = templates.generate(master, period, out_dir, deadline, db, config_path, progress,
                               force)
    for line in s.summary_lines():
        click.echo(line)


# --- collect / check (issue 4) ---------------------------------------------------------------

JSON_OPTION = click.option("--json", "json_path", default=None, type=click.Path(dir_okay=False),
                           help="把全部问题记录写入此 JSON 文件")


@cli.command("collect")
@click.argument("paths", nargs=-1, required=True, metavar="文件或文件夹...",
                type=click.Path(exists=True))
@PERIOD_OPTION
@DB_OPTION
@MASTER_OPTION
@click.option("--received", default=None,
              help="接收时间（ISO，如 2024-07-03T10:00），覆盖文件修改时间/邮件时间")
@JSON_OPTION
@CONFIG_OPTION
@fatal_as_exit2
def collect_cmd(paths, period, db, master, received, json_path, config_path):
    """收取报表：读取文件、文件夹、.zip 和 .eml 中的填报表，逐格校验，原件和数据存入台账。

    有问题的报表在台账旁的 annotated/<月份>/ 下生成问题标注副本。退出码：0 无错误，1 有错误，2 无法运行。
    """
    from minshi_xls import collect
    with progress_bar("收取报表") as progress:
        result = collect.run(paths, period, db, master, config_path, received, json_path,
                             progress)
    for line in result.summary_lines():
        click.echo(line)
    sys.exit(result.exit_code)


@cli.command("check")
@click.argument("files", nargs=-1, required=True, metavar="文件...", type=click.Path(exists=True))
@click.option("--annotate", is_flag=True, help="在原文件旁生成问题标注副本（<文件名>_问题标注.xlsx）")
@JSON_OPTION
@MASTER_OPTION
@DB_OPTION
@CONFIG_OPTION
@fatal_as_exit2
def check_cmd(files, annotate, json_path, master, db, config_path):
    """只校验不入账：报送前自查填报表（总表不存在时按报表标识页校验锁定内容）。

    台账（--db）存在时，与系统生成的空白填报表完全相同的文件判为空表。
    """
    from minshi_xls import collect
    report = collect.check(files, master, annotate, json_path, config_path, db)
    for line in collect.check_lines(report):
        click.echo(line)
    sys.exit(int(not report.valid))

@cli.command("accept")
@click.argument("unit", metavar="单位")
@click.argument("file", required=False, metavar="[文件]")
@PERIOD_OPTION
@click.option("--undo", is_flag=True, help="撤销对该单位本月有效版本的指定，恢复按接收时间和保存时间计入")
@click.option("--note", default=None, help="说明（记入台账），如“单位电话确认以此版为准”")
@DB_OPTION
@MASTER_OPTION
@fatal_as_exit2
def accept_cmd(unit, file, period, undo, note, db, master):
    """指定某单位本月以哪一份报表为准（文件：路径、文件名或 sha256），或用 --undo 撤销。

    不给文件时列出该单位本月的各个版本。指定记入台账，汇总和提醒都以指定的版本为准。
    """
    from minshi_xls import versions
    from minshi_xls.master import load_master
    master = load_master(master, required=False)  # only to know the units' other names
    if undo:
        choice = versions.unaccept(db, period, unit, note, master)
    elif file is None:
        found = versions.versions(db, period, unit, master)
        click.echo(f"{found[0].unit if found else unit} {period} 的版本（★ 为计入的版本）：")
        for line in versions.version_lines(found):
            click.echo(line)
        return
    else:
        choice = versions.accept(db, period, unit, file, note, master)
    for line in choice.lines():
        click.echo(line)


# --- reconcile / summary / status / demo (issue 5) -------------------------------------------

OUT_OPTION = click.option("-o", "--out", "out_dir", default=None, type=click.Path(file_okay=False),
                          help="输出文件夹（默认 output/<月份>/）")


def REPORT_OPTIONS(fn):  # noqa: N802 - used as a decorator like the option constants
    """--period, -o, --master, --db, --config of the commands that write output/<月份>/."""
    for option in (fatal_as_exit2, CONFIG_OPTION, DB_OPTION, MASTER_OPTION, OUT_OPTION,
                   PERIOD_OPTION):
        fn = option(fn)
    return fn


@cli.command("reconcile")
@REPORT_OPTIONS
def reconcile_cmd(period, out_dir, master, db, config_path):
    """汇总本月数据，生成进展汇总表（2024年1-6月民生实事进展汇总表.xlsx）、明细 CSV 和通报（.docx）。

    有问题也照常生成（问题列在“校验问题”表）；无法生成时退出码为 2。
    """
    from minshi_xls import report
    with progress_bar("汇总") as progress:
        result = report.run(master, period, db, out_dir, config_path, progress)
    for line in result.summary_lines():
        click.echo(line)


@cli.command("summary")
@REPORT_OPTIONS
def summary_cmd(period, out_dir, master, db, config_path):
    """输出本月通报文字，并保存为 output/<月份>/通报_<月份>.txt 和公文格式的 通报_<月份>.docx。"""
    from minshi_xls import report
    text, path = report.run_summary(master, period, db, out_dir, config_path)
    click.echo(text)
    click.echo(f"\n已保存：{path}\n公文格式：{report.bulletin_path(path, period)}")


@cli.command("status")
@PERIOD_OPTION
@MASTER_OPTION
@DB_OPTION
@CONFIG_OPTION
@fatal_as_exit2
def status_cmd(period, master, db, config_path):
    """列出应报送单位的报送情况（未报送的在前）。"""
    from minshi_xls import reconcile
    for line in reconcile.status_table(reconcile.compute_period(master, period, db, config_path)):
        click.echo(line)


@cli.command("demo")
@click.argument("folder", required=False, default="output/demo", metavar="[文件夹]",
                type=click.Path(file_okay=False))
@fatal_as_exit2
def demo_cmd(folder):
    """在一个新文件夹中用内置的2024年通知完整演示一遍：导入 → 填报表 → 模拟报送 → 收取 → 汇总 → 通报。

    文件夹默认为 output/demo/（output/ 不进 git，演示不会弄乱工作目录）。
    """
    from minshi_xls import demo
    with progress_bar("演示") as progress:
        result = demo.run_demo(folder, progress)
    for line in result.summary_lines():
        click.echo(line)


@cli.command("month")
@click.argument("paths", nargs=-1, metavar="[文件或文件夹...]", type=click.Path(exists=True))
@REPORT_OPTIONS
def month_cmd(paths, period, out_dir, master, db, config_path):
    """一次完成本月无需值守的步骤：收取邮件（已设收信服务器时）、收取给出的文件夹、汇总、通报，最后列出需要提醒的单位。

    退出码：0 无错误，1 有单位的报表有错误或某一步未完成，2 无法运行。
    """
    from minshi_xls import month
    with progress_bar("本月") as progress:
        result = month.run(period, paths, master, db, config_path, out_dir, progress)
    for line in result.lines + result.remind_lines():
        click.echo(line)
    sys.exit(result.exit_code)


# --- send / fetch / remind (issue 6) ---------------------------------------------------------

TEMPLATES_OPTION = click.option("--templates", "templates_dir", default=settings.DEFAULT_TEMPLATES,
                                show_default=True, type=click.Path(file_okay=False),
                                help="填报表文件夹（其中的 <月份>/ 子文件夹）")
OUTBOX_OPTION = click.option("--outbox", default=None, type=click.Path(file_okay=False),
                             help="不经邮件服务器，把邮件写成 .eml 文件存入此文件夹")
DRY_RUN_OPTION = click.option("--dry-run", is_flag=True,
                              help="试运行：邮件写入发件箱文件夹供检查，不发送，不记入台账")


@cli.command("send")
@PERIOD_OPTION
@TEMPLATES_OPTION
@OUTBOX_OPTION
@DRY_RUN_OPTION
@click.option("--resend", multiple=True, metavar="单位",
              help="再次发送给该单位（可重复使用；默认已发送过的单位不再发送）")
@MASTER_OPTION
@DB_OPTION
@CONFIG_OPTION
@fatal_as_exit2
def send_cmd(period, templates_dir, outbox, dry_run, resend, master, db, config_path):
    """把本月填报表逐个发给各单位（收件人为总表“单位”表中登记的邮箱）。

    未配置 [smtp] host 时邮件写入 output/outbox/<月份>/。密码只从环境变量读取。
    有单位发送失败、未登记邮箱或缺少填报表时退出码为 1。
    """
    from minshi_xls import mail
    with progress_bar("发送") as progress:
        result = mail.send(master, period, templates_dir, db, config_path, outbox, dry_run,
                           resend, progress)
    click.echo(result.summary())
    sys.exit(result.exit_code)


@cli.command("fetch")
@PERIOD_OPTION
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="只检索此日期（YYYY-MM-DD）以来的邮件，默认本月1日")
@MASTER_OPTION
@DB_OPTION
@CONFIG_OPTION
@fatal_as_exit2
def fetch_cmd(period, since, master, db, config_path):
    """从收件邮箱（IMAP）收取本月报表并校验入账；邮件不删除、不标记已读，同一封邮件不重复收取。

    退出码：0 无错误，1 收到的报表有错误，2 无法运行（如登录失败）。
    """
    from minshi_xls import mail
    with progress_bar("收取邮件") as progress:
        result = mail.fetch(master, period, db, config_path, since, progress)
    click.echo(result.summary())
    sys.exit(result.exit_code)


@cli.command("remind")
@PERIOD_OPTION
@TEMPLATES_OPTION
@OUTBOX_OPTION
@DRY_RUN_OPTION
@MASTER_OPTION
@DB_OPTION
@CONFIG_OPTION
@fatal_as_exit2
def remind_cmd(period, templates_dir, outbox, dry_run, master, db, config_path):
    """提醒未报送或报表有错误的单位：逐条列出要修改的工作表、单元格和问题，附上该单位的表格。"""
    from minshi_xls import mail
    with progress_bar("发送提醒") as progress:
        result = mail.remind(master, period, db, config_path, templates_dir, outbox, dry_run,
                             progress)
    click.echo(result.summary())
    sys.exit(result.exit_code)


# --- the console (issue 14) ------------------------------------------------------------------

@cli.command("serve")
@click.option("--period", default=None, help="打开时显示的月份，如 2024-06（默认上个月）")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址；在办公网络上提供（如 0.0.0.0）需先在配置中设置密码")
@click.option("--port", default=8765, show_default=True, type=int, help="端口")
@click.option("--no-browser", is_flag=True, help="不自动打开浏览器")
@click.option("--hash-password", is_flag=True,
              help="输入一个密码，显示写入 minshi.toml [console] 的 password_hash 后退出")
@TEMPLATES_OPTION
@MASTER_OPTION
@DB_OPTION
@CONFIG_OPTION
@fatal_as_exit2
def serve_cmd(period, host, port, no_browser, hash_password, templates_dir, master, db,
              config_path):
    """在浏览器中打开本月的控制台：各单位报送情况、拖入报表、一键生成/发送/收取/提醒/汇总。

    默认只在本机（127.0.0.1）提供，用启动时显示的带令牌链接打开；与命令行同时使用同一文件夹和台账。
    """
    from minshi_xls import web
    if hash_password:
        from minshi_xls.web.security import hash_password as make_hash
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再输入一次")
        click.echo("[console]")
        click.echo(f'password_hash = "{make_hash(password)}"')
        return
    project = web.Project.at(".", master, db, templates_dir, config_path)
    web.serve(project, host, port, period, not no_browser, click.echo)
