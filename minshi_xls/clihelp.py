"""click in Chinese: the help page's fixed words and click's own usage errors.

click writes its headings, metavars and error texts in English (through gettext, with no Chinese
catalogue). Rather than fork click or install a message catalogue, a help formatter translates
the few fixed words it is handed, and :class:`ChineseGroup` prints usage errors itself from the
exception's fields. Anything click adds later that is not in these tables shows in English
rather than breaking a run.
"""
from __future__ import annotations

import re
import sys
from typing import Optional

import click

#: Words click puts into a help page (headings, metavars, the extras after an option's help).
WORDS = {
    "Options": "选项", "Commands": "命令", "Positional arguments": "参数",
    "[OPTIONS]": "[选项]", "COMMAND [ARGS]...": "命令 [参数]...",
    "TEXT": "文本", "FILE": "文件", "DIRECTORY": "文件夹", "PATH": "路径",
    "INTEGER": "整数", "FLOAT": "数字", "BOOLEAN": "是/否",
}
EXTRAS = {"default: ": "默认：", "required": "必填", "env var: ": "环境变量："}
HELP_OPTION = "显示本帮助并退出。"
VERSION_OPTION = "显示版本号并退出。"

#: click's own error sentences (as raised by click's types and parser) and their Chinese.
MESSAGES = [
    (r"No such command '(?P<x>[^']*)'\.? ?(Did you mean '?(?P<y>[^'?]*)'?\?)?",
     "没有命令 {x}。{y}"),
    (r"Missing command\.?", "缺少命令。"),
    (r"Got unexpected extra arguments? \((?P<x>.*)\)", "多余的参数：{x}。"),
    (r"Option '(?P<x>.*)' requires (an argument|\d+ arguments)\.?", "选项 {x} 后面需要一个值。"),
    (r"Option '(?P<x>.*)' does not take a value\.?", "选项 {x} 不带值。"),
    (r"(File|Directory|Path) '(?P<x>.*)' does not exist\.?", "找不到 {x}。"),
    (r"(File|Directory|Path) '(?P<x>.*)' is a directory\.?", "{x} 是文件夹，这里要的是文件。"),
    (r"(File|Directory|Path) '(?P<x>.*)' is a file\.?", "{x} 是文件，这里要的是文件夹。"),
    (r"(File|Directory|Path) '(?P<x>.*)' is not (readable|writable)\.?", "{x} 没有读写权限。"),
    (r"'?(?P<x>.*?)'? is not a valid (integer|float|integer range|float range)\.?",
     "“{x}”不是数字。"),
    (r"'?(?P<x>.*?)'? is not (one of )?(?P<y>'.*')\.?", "“{x}”无效，可选：{y}。"),
]


def translate(message: str) -> str:
    """A click sentence in Chinese; one this table does not know is returned as it is."""
    text = message.strip()
    for pattern, chinese in MESSAGES:
        m = re.fullmatch(pattern, text, re.S)
        if m:
            found = m.groupdict()
            if chinese.endswith("{y}") and found.get("y"):
                found["y"] = f"是不是要用 {found['y']}？"
            return chinese.format(**{k: v or "" for k, v in found.items()})
    return text


def _word(text: str) -> str:
    for en, zh in WORDS.items():
        text = re.sub(rf"(?<![\w\[]){re.escape(en)}(?!\w)", zh, text) if en[0].isalpha() \
            else text.replace(en, zh)
    return text


def _extras(help_text: str) -> str:
    """``[default: x; required]`` at the end of an option's help, in Chinese."""
    m = re.search(r"\s*\[([^\[\]]*)\]$", help_text)
    if not m:
        return help_text
    inner = m.group(1)
    for en, zh in EXTRAS.items():
        inner = re.sub(rf"(^|; ){re.escape(en)}", rf"\g<1>{zh}", inner)
    return help_text[:m.start()] + "  [" + inner.replace("; ", "；") + "]"


class ChineseFormatter(click.HelpFormatter):
    """click's help page with its fixed words in Chinese."""

    def write_usage(self, prog: str, args: str = "", prefix: Optional[str] = None) -> None:
        super().write_usage(prog, _word(args), "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{WORDS.get(heading, heading)}：\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        """Two columns aligned by display width (a Chinese character takes two columns)."""
        from minshi_xls.xlsx_style import display_width
        rows = [(_word(first), _extras(second)) for first, second in rows]
        if not rows:
            return
        width = min(max(display_width(first) for first, _ in rows), col_max)
        indent = " " * self.current_indent
        for first, second in rows:
            self.write(indent + first)
            if not second:
                self.write("\n")
                continue
            gap = width - display_width(first) + col_spacing
            lead = " " * (self.current_indent + width + col_spacing)
            self.write(" " * gap if gap >= col_spacing else "\n" + lead)
            self.write(("\n" + lead).join(second.splitlines()) + "\n")


class ChineseContext(click.Context):
    formatter_class = ChineseFormatter


class ChineseCommand(click.Command):
    context_class = ChineseContext

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as e:  # the parser's errors come without the command
            e.ctx = e.ctx or ctx
            raise

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION
        return option


def usage_message(e: click.UsageError) -> str:
    """What went wrong, in Chinese, from the exception's own fields where it has them."""
    ctx = e.ctx

    def hint(param) -> str:
        if isinstance(param, click.Argument):
            return param.make_metavar(ctx) if ctx is not None else param.name.upper()
        return " / ".join(param.opts)
    if isinstance(e, click.MissingParameter) and e.param is not None:
        kind = "参数" if isinstance(e.param, click.Argument) else "选项"
        return f"缺少{kind} {hint(e.param)}。"
    if isinstance(e, click.NoSuchOption):
        text = f"没有选项 {e.option_name}。"
        if e.possibilities:
            text += f"是不是要用 {'、'.join(sorted(e.possibilities))}？"
        return text
    if isinstance(e, click.BadParameter):
        where = hint(e.param) if e.param is not None else (e.param_hint or "")
        what = translate(e.message)
        return f"{where} 的值无效：{what}" if where else f"值无效：{what}"
    return translate(e.format_message())


def show_usage_error(e: click.UsageError) -> None:
    lines = []
    if e.ctx is not None:
        lines.append(e.ctx.get_usage())
        helps = e.ctx.command.get_help_option_names(e.ctx)
        if helps:
            lines.append(f"查看帮助：{e.ctx.command_path} {helps[0]}")
        lines.append("")
    lines.append(f"错误：{usage_message(e)}")
    click.echo("\n".join(lines), err=True)


class ChineseGroup(ChineseCommand, click.Group):
    """The ``minshi`` group: Chinese help for it and every command under it, and click's errors
    printed in Chinese. Usage and fatal errors exit 2 (the CLI's contract), data problems 1."""

    command_class = ChineseCommand
    group_class = type  # subgroups are ChineseGroups too

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as e:
            show_usage_error(e)
            sys.exit(2)
        except click.ClickException as e:
            click.echo(f"错误：{translate(e.format_message())}", err=True)
            sys.exit(2)
        except click.Abort:
            click.echo("已中止。", err=True)
            sys.exit(1)
        except Exception as e:  # a bug: the clerk gets Chinese and a file to pass on
            click.echo(f"错误：程序出现意外，本次未完成（{type(e).__name__}：{e}）。"
                       f"详细记录已保存到 {crash_log()}，请发给维护人员。", err=True)
            sys.exit(2)
        sys.exit(code if isinstance(code, int) else 0)


def crash_log() -> str:
    """The traceback of the exception being handled, in a file of the system's temp folder."""
    import tempfile
    import traceback
    fd, path = tempfile.mkstemp(prefix="minshi-error-", suffix=".log")
    with open(fd, "w", encoding="utf-8") as f:
        f.write(traceback.format_exc())
    return path
