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
