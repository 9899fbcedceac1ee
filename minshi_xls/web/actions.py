"""The month's steps as the console runs them: each is the library call its CLI command makes,
with the same options, returning the lines the command prints (so a clerk reads the same
result in the browser as in a terminal)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from minshi_xls import settings

Progress = Optional[Callable[..., None]]


@dataclass(frozen=True)
class Project:
    """The folder the console serves: the same paths the CLI's options default to."""

    master: Path
    db: Path
    templates: Path
    output: Path
    config_path: Optional[Path] = None

    @classmethod
    def at(cls, root=".", master=None, db=None, templates=None, config_path=None) -> "Project":
        root = Path(root).resolve()

        def under(p, default):
            return (root / (p or default)).resolve()
        # The folder's own minshi.toml, whatever the server's working folder is.
        config = under(config_path, settings.CONFIG_FILE)
        return cls(master=under(master, settings.DEFAULT_MASTER), db=under(db, settings.DEFAULT_DB),
                   templates=under(templates, settings.DEFAULT_TEMPLATES),
                   output=under(None, settings.DEFAULT_OUTPUT),
                   config_path=config if config_path or config.is_file() else None)

    def config(self) -> dict:
        return settings.load_config(self.config_path)

    def out_dir(self, period: str) -> Path:
        """``output/<period>/``: where reconcile and summary write by default."""
        return self.output / period


def templates(p: Project, period: str, progress: Progress = None) -> List[str]:
    """``minshi templates``."""
    from minshi_xls import templates as t
    return t.generate(p.master, period, p.templates / period, None, p.db, p.config_path,
                      progress).summary_lines()


def collect(p: Project, period: str, paths: Sequence[Path], progress: Progress = None) -> List[str]:
    """``minshi collect PATHS``: the same guard, limits, issues and annotated copies."""
    from minshi_xls import collect as c
    return c.run([str(x) for x in paths], period, p.db, p.master, p.config_path, None, None,
                 progress).summary_lines()


def send(p: Project, period: str, progress: Progress = None) -> List[str]:
    """``minshi send``."""
    from minshi_xls import mail
    return mail.send(p.master, period, p.templates, p.db, p.config_path,
                     progress=progress).summary().splitlines()


def fetch(p: Project, period: str, progress: Progress = None) -> List[str]:
    """``minshi fetch``."""
    from minshi_xls import mail
    return mail.fetch(p.master, period, p.db, p.config_path, None, progress).summary().splitlines()


def remind(p: Project, period: str, progress: Progress = None) -> List[str]:
    """``minshi remind``."""
    from minshi_xls import mail
    return mail.remind(p.master, period, p.db, p.config_path, p.templates,
                       progress=progress).summary().splitlines()


def reconcile(p: Project, period: str, progress: Progress = None) -> List[str]:
    """``minshi reconcile``."""
    from minshi_xls import report
    return report.run(p.master, period, p.db, p.out_dir(period), p.config_path,
                      progress).summary_lines()


def summary(p: Project, period: str, progress: Progress = None) -> List[str]:
    """``minshi summary``: the 通报."""
    from minshi_xls import report
    text, path = report.run_summary(p.master, period, p.db, p.out_dir(period), p.config_path)
    return [text, f"已保存：{path}", f"公文格式：{report.bulletin_path(path, period)}"]


def accept(p: Project, period: str, unit: str, return_id: Optional[int], note: Optional[str],
           progress: Progress = None) -> List[str]:
    """``minshi accept UNIT FILE`` (pin the version that counts), or with no version
    ``minshi accept UNIT --undo``."""
    from minshi_xls import versions
    if return_id is None:
        return versions.unaccept(p.db, period, unit, note).lines()
    return versions.accept(p.db, period, unit, return_id, note).lines()


#: The buttons of the month page: step name -> (label, what it does, function).
STEPS: Dict[str, tuple] = {
    "templates": ("生成填报表", "按总表为每个单位生成本月填报表和分发清单", templates),
    "send": ("发送填报表", "把填报表逐个发给各单位（未配置邮件服务器时写入发件箱文件夹）", send),
    "fetch": ("收取邮件", "从收件邮箱收取本月报表并校验入账", fetch),
    "remind": ("发送提醒", "提醒未报送或报表有错误的单位", remind),
    "reconcile": ("汇总", "生成本月进展汇总表和明细", reconcile),
    "summary": ("生成通报", "生成本月通报", summary),
}
