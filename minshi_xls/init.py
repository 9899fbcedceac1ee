"""``minshi init``: a working folder ready for the first month.

Writes ``minshi.toml`` (every setting, commented, at its default) with what the clerk gave
(office, contact, mail servers), imports the notice when there is no master yet, and says what
is still missing and which command comes next. Run again, it only fills settings that are still
empty: what the clerk set (and the comments around it) is never overwritten, because the file is
edited with tomlkit, which keeps it as written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import tomlkit

from minshi_xls import MinshiError, clock, settings

#: What init asks for: (section, key) -> the question (also the option's help).
ASKED: Dict[Tuple[str, str], str] = {
    ("office", "name"): "办公室名称（写进填报说明和邮件，如 连云港市民生实事办公室）",
    ("office", "contact"): "联系人",
    ("office", "phone"): "联系电话",
    ("office", "email"): "办公室邮箱（各单位报送的地址）",
    ("smtp", "host"): "发信服务器（SMTP，如 smtp.lyg.gov.cn；不填则邮件存为 .eml 手工发送）",
    ("smtp", "user"): "发信账号",
    ("imap", "host"): "收信服务器（IMAP，如 imap.lyg.gov.cn；不填则从文件夹收取报表）",
    ("imap", "user"): "收信账号",
}

#: The comments of the written minshi.toml, in the clerk's words.
COMMENTS: Dict[Tuple[str, Optional[str]], str] = {
    ("office", None): "办公室：写进填报说明、邮件正文和提醒",
    ("office", "timezone"): "显示的所有时间都按这个时区",
    ("templates", None): "填报表",
    ("templates", "deadline_day"): "截止日：报送月份的次月几日（1-28）",
    ("templates", "include_co_bureaus"): "只承担配合任务的部门也发填报表（只填文字）",
    ("templates", "password"): "工作表保护密码（空：不设）",
    ("rules", None): "校验规则",
    ("limits", None): "收取报表时的安全限制",
    ("smtp", None): "发信；host 为空时邮件写成 .eml 存入 output/outbox/<月份>/",
    ("smtp", "password_env"): "密码不写在这里：存放密码的环境变量名",
    ("imap", None): "收信（只读，不删除、不标记已读）",
    ("imap", "password_env"): "密码不写在这里：存放密码的环境变量名",
    ("mail", None): "邮件标题与重试",
    ("console", None): "minshi serve 网页控制台",
}


@dataclass
class InitResult:
    config_path: Path
    created: bool = False
    filled: List[Tuple[str, str]] = field(default_factory=list)  # ("[office] name", value)
    kept: List[Tuple[str, str, str]] = field(default_factory=list)  # (key, kept, not used)
    master_path: Optional[Path] = None
    imported: Optional[str] = None  # the import's summary when it ran now
    import_errors: int = 0
    missing: List[str] = field(default_factory=list)
    next_command: str = ""

    def summary_lines(self) -> List[str]:
        lines = [f"已创建配置文件 {self.config_path}（所有设置及说明都在其中，可直接编辑）"
                 if self.created else f"配置文件 {self.config_path} 已存在，"
                 + ("补填了：" if self.filled else "未改动。")]
        for key, value in self.filled:
            lines.append(f"  {key} = {value}")
        for key, old, new in self.kept:
            lines.append(f"  {key} 已设为“{old}”，未改成“{new}”（要改请直接编辑配置文件）")
        if self.imported:
            lines.append(f"已导入通知，生成总表 {self.master_path}：{self.imported}")
        else:
            lines.append(f"总表 {self.master_path} 已存在，未重新导入。")
        if self.import_errors:
            lines.append(f"总表有 {self.import_errors} 个错误：请运行 minshi master check 查看并修改。")
        if self.missing:
            lines.append("还缺：")
            lines.extend(f"  {i}. {m}" for i, m in enumerate(self.missing, 1))
        else:
            lines.append("设置齐全。")
        lines.append(f"下一步：{self.next_command}")
        lines.append("每月的步骤见 README 的“每月操作”。")
        return lines


def default_document() -> tomlkit.TOMLDocument:
    """Every setting at its default, commented: the file a clerk edits."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment("minshi.toml — 民生实事月度填报的设置（UTF-8）。改动后对之后的命令生效。"))
    doc.add(tomlkit.comment("密码不写在本文件中：发信、收信密码放在 password_env 指定的环境变量里。"))
    for section, values in settings.DEFAULTS.items():
        table = tomlkit.table()
        if (section, None) in COMMENTS:
            table.comment(COMMENTS[(section, None)])
        for key, value in values.items():
            item = tomlkit.item(value)
            note = COMMENTS.get((section, key)) or ASKED.get((section, key))
            if note:
                item.comment(note.split("（")[0])
            table.add(key, item)
        doc.add(tomlkit.nl())
        doc.add(section, table)
    return doc


def write_config(path: Path, given: Dict[Tuple[str, str], str], result: InitResult) -> None:
    """Create or complete ``path``: a given value fills a setting only while it is empty or
    still at its default."""
    if path.exists():
        try:
            doc = tomlkit.parse(path.read_text(encoding="utf-8"))
        except (tomlkit.exceptions.ParseError, UnicodeDecodeError) as e:
            raise MinshiError(f"配置文件 {path} 格式有误：{e}。请改正后再运行 minshi init。") from e
    else:
        doc, result.created = default_document(), True
    for (section, key), value in given.items():
        if value is None or str(value).strip() == "":
            continue
        value = str(value).strip()
        table = doc.get(section)
        if table is None:
            table = tomlkit.table()
            doc.add(section, table)
        old = table.get(key)
        # set by the clerk = anything but empty or the default the file was written with
        if old not in (None, "", settings.DEFAULTS.get(section, {}).get(key)):
            if str(old) != value:
                result.kept.append((f"[{section}] {key}", str(old), value))
            continue
        table[key] = value
        result.filled.append((f"[{section}] {key}", value))
    if result.created or result.filled:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(tomlkit.dumps(doc), encoding="utf-8")


def empty_settings(config_path: Path) -> Dict[Tuple[str, str], str]:
    """The asked settings that are still empty in ``config_path`` (what to prompt for)."""
    config = settings.load_config(config_path) if config_path.exists() else settings.DEFAULTS
    return {k: q for k, q in ASKED.items() if not str(config[k[0]].get(k[1]) or "").strip()}


def run(given: Dict[Tuple[str, str], str], config_path=None, master_path=None, notice=None,
        templates_dir=None, db_path=None, today: Optional[date] = None) -> InitResult:
    """Set up the working folder (see the module docstring); safe to run again."""
    from minshi_xls import master as master_mod
    config_path = Path(config_path or settings.CONFIG_FILE)
    result = InitResult(config_path)
    write_config(config_path, given, result)
    config = settings.load_config(config_path)  # also refuses a password written into it
    result.master_path = Path(master_path or settings.DEFAULT_MASTER)
    if not result.master_path.exists():
        imported = master_mod.import_notice(notice, result.master_path)
        result.imported = imported.summary().splitlines()[0]
        result.import_errors = len(imported.report.errors)
    master = master_mod.read_master(result.master_path)
    result.missing = missing(config, master, result.master_path)
    result.next_command = next_command(master, templates_dir, db_path, today)
    return result


def missing(config: dict, master, master_path: Path) -> List[str]:
    """What the month still needs from the clerk, each with where to put it."""
    out = []
    office = config["office"]
    blank = [label for key, label in (("contact", "联系人"), ("phone", "联系电话"),
                                      ("email", "办公室邮箱")) if not office.get(key)]
    if blank:
        out.append(f"填报说明和邮件里没有{'、'.join(blank)}：minshi init --contact … --phone … "
                   "--email …，或编辑 minshi.toml 的 [office]。")
    if not config["smtp"].get("host"):
        out.append("未设发信服务器：send、remind 会把邮件写成 .eml 存入 output/outbox/，需手工发送"
                   "（minshi init --smtp-host … --smtp-user …）。")
    if not config["imap"].get("host"):
        out.append("未设收信服务器：把收到的报表存进一个文件夹，用 minshi collect 文件夹 收取"
                   "（或 minshi init --imap-host … --imap-user …）。")
    units = master.reporting_units(settings.include_co_bureaus(config))
    no_mail = [u for u in units if not (master.registry.get(u) and master.registry.get(u).addresses)]
    if no_mail:
        names = "、".join(no_mail[:10]) + ("等" if len(no_mail) > 10 else "")
        out.append(f"{len(no_mail)} 个单位没有登记邮箱（{names}）：在总表 {master_path} 的“单位”表"
                   "“邮箱”列填写，多个地址用分号隔开。")
    return out


def next_command(master, templates_dir=None, db_path=None, today: Optional[date] = None) -> str:
    """The month's next step: templates for the month after the last one generated, or (none
    yet) for last month when the master is this year's, else the master year's first month."""
    tdir = Path(templates_dir or settings.DEFAULT_TEMPLATES)
    done = sorted(p.name for p in tdir.glob("*-*") if p.is_dir() and settings.is_period(p.name)) \
        if tdir.is_dir() else []
    if done:
        y, m = settings.period_parts(done[-1])
        period = f"{y + (m == 12)}-{m % 12 + 1:02d}"
    else:
        today = today or clock.local(clock.now()).date()
        y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        year = master.year or y
        period = f"{y}-{m:02d}" if year == y else f"{year}-01"
    return f"minshi templates --period {period}"

