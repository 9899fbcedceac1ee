"""Keep the README and the CLI in step (sqlite-utils' test_docs): every command has Chinese help
and is documented, and the Quick start's test command is what CI runs."""
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from minshi_xls.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The README is the clerk's page; every option, rule and number lives in one docs/ page per stage.
DOCS = README + "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))


def _commands(group, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        path = prefix + (name,)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path)
        else:
            yield path, cmd


COMMANDS = list(_commands(cli))


def test_every_stage_command_exists():
    names = {" ".join(p) for p, _ in COMMANDS}
    for expected in ("import", "master check", "templates", "collect", "check", "reconcile",
                     "summary", "status", "demo", "send", "fetch", "remind"):
        assert expected in names


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_command_has_help_and_is_documented(path, cmd):
    assert cmd.help and re.search(r"[\u4e00-\u9fff]", cmd.help), "help must be in Chinese"
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"用法：minshi {' '.join(path)} [选项]")
    english = re.findall(r"Usage|Options|Show this|default:|required|\b(?:TEXT|FILE|DIRECTORY)\b",
                         result.output)
    assert not english, f"click's English left in the help page: {english}"
    assert f"minshi {' '.join(path)}" in DOCS, f"README/docs do not show `minshi {' '.join(path)}`"
    for param in cmd.params:
        if isinstance(param, click.Option) and param.help is None and not param.hidden:
            pytest.fail(f"option {param.opts} of `minshi {' '.join(path)}` has no help")


def test_quick_start_and_ci_run_the_same_tests():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "minshi demo" in quick
    m = re.search(r"&& (python3 -m pytest[^\n#]*)", quick)
    assert m, "Quick start has no test command"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert m.group(1).strip() in ci


def test_usage_error_exits_2():
    result = CliRunner().invoke(cli, ["templates", "--period", "2024-13"])
    assert result.exit_code == 2


@pytest.mark.parametrize("args,expected", [
    (["templates"], "错误：缺少选项 --period。"),
    (["collect", "--period", "2024-06"], "错误：缺少参数 文件或文件夹..."),
    (["colect"], "错误：没有命令 colect。是不是要用 collect？"),
    (["collect", "x.xlsx", "--perod", "2024-06"], "错误：没有选项 --perod。是不是要用 --period？"),
    (["collect", "no_such.xlsx", "--period", "2024-06"], "的值无效：找不到 no_such.xlsx。"),
    (["fetch", "--period"], "错误：选项 --period 后面需要一个值。"),
    (["master", "check", "a.xlsx", "b.xlsx"], "错误：多余的参数：b.xlsx。"),
])
def test_usage_errors_are_chinese(args, expected, tmp_path, monkeypatch):
    """click's own usage errors (``Usage:``, ``Missing option``, ``No such command``) in Chinese,
    with the command's usage line and where to find help; exit code 2."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.xlsx").write_bytes(b"")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "用法：minshi" in result.output and "查看帮助：minshi" in result.output
    assert not re.search(r"Usage|Error|Missing|No such|Try '", result.output), result.output


def test_fatal_error_is_chinese(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["status", "--period", "2024-06"])
    assert result.exit_code == 2 and result.output.startswith("错误：")


def _readme_commands(text):
    """Every ``minshi …`` command line of the README's code blocks (continuations joined)."""
    blocks = re.findall(r"```(?:console|bash)\n(.*?)```", text, re.S)
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#", 1)[0].strip()
            m = re.search(r"(?:^\$ |&& )(minshi .*)", line) or re.match(r"(minshi .*)", line)
            if m:
                yield m.group(1).split()[1:]


def _command(words):
    cmd, rest = cli, list(words)
    while isinstance(cmd, click.Group) and rest and rest[0] in cmd.commands:
        cmd = cmd.commands[rest.pop(0)]
    return cmd, rest


def test_readme_is_the_clerks_page():
    lines = README.splitlines()
    assert len(lines) < 250, f"README has {len(lines)} lines; reference belongs in docs/"
    titles = [t for t in re.findall(r"^## (.+)$", README, re.M)]
    assert titles[:3] == ["Quick start", "第一次使用 (once a year: set up the working folder)",
                          "每月操作 (every month)"]
    for link in re.findall(r"\]\((docs/[^)]+)\)", README):
        assert (ROOT / link).exists(), link


def test_readme_commands_exist_with_their_options():
    """Every command line the README shows is a real command, and every --option it uses is
    one of that command's options: the checklist cannot drift from the CLI."""
    seen = list(_readme_commands(README))
    assert len(seen) >= 12
    for words in seen:
        cmd, rest = _command(words)
        assert cmd is not cli, words
        names = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}
        for w in rest:
            if w.startswith("-"):
                assert w.split("=")[0] in names, f"`minshi {' '.join(words)}`: no option {w}"


def test_monthly_checklist_in_order():
    """每月操作 runs the month in the order the tool needs it."""
    month = README.split("## 每月操作", 1)[1].split("\n## ", 1)[0]
    order = [c for c in (" ".join(w[:1]) for w in _readme_commands(month))]
    firsts = [order.index(c) for c in ("templates", "send", "fetch", "collect", "status",
                                       "remind", "reconcile", "summary")]
    assert firsts == sorted(firsts), order


def test_quick_start_leaves_the_checkout_clean():
    """The demo's default folder is inside an ignored one: git status stays clean."""
    demo = next(p for p in cli.commands["demo"].params if p.name == "folder").default
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    top = Path(demo).parts[0]
    assert f"/{top}/*" in ignored or f"/{top}/" in ignored, demo


def test_a_crash_is_a_chinese_message_and_a_log(tmp_path, monkeypatch):
    """A bug must not show a clerk an English traceback: one Chinese line, the details in a file."""
    import minshi_xls.reconcile as rc

    def broken(*args, **kwargs):
        raise KeyError("单位")
    monkeypatch.setattr(rc, "compute_period", broken)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["status", "--period", "2024-06"])
    assert result.exit_code == 2
    assert result.output.startswith("错误：程序出现意外") and "Traceback" not in result.output
    log = re.search(r"保存到 (\S+?)，", result.output).group(1)
    assert "Traceback" in Path(log).read_text(encoding="utf-8")
    Path(log).unlink()
