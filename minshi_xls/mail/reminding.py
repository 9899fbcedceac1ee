"""``minshi remind``: where each unit stands, and a reminder that says exactly what to fix."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from minshi_xls import clock, columns, issues, ledger, settings
from minshi_xls.mail.common import (Progress, _config, _expected_units, _master,
                                    _section, deadline, period_label, template_path,
                                    workbook_deadline)
from minshi_xls.mail.outgoing import _contact_line, build_message, office_today
from minshi_xls.mail.sending import Delivery, SendResult, _deliver, _Job
from minshi_xls.model import Unit
from minshi_xls.templates import chinese_date

@dataclass
class UnitState:
    """Where a unit stands for a period, from the ledger: the return that counts and its issues."""

    unit: str
    status: Optional[str] = None  # accepted | rejected | None (nothing identified yet)
    received_at: Optional[str] = None
    file_sha256: Optional[str] = None
    file_name: Optional[str] = None  # as received (the last part of its source path)
    errors: List[dict] = field(default_factory=list)
    warnings: List[dict] = field(default_factory=list)
    #: the latest reply that was not a return (ledger.mail_states): code, value, message, date
    mail: Optional[dict] = None
    #: the sealed scan and photos that came with the return (ledger.mail_files)
    extra_files: List[str] = field(default_factory=list)

    @property
    def needs_reminder(self) -> bool:
        return self.status != "accepted" or bool(self.errors)

    @property
    def label(self) -> str:
        """What the clerk reads for the unit: 已接收, 有错误, 文件过大, 回复无附件, 自动回复,
        退信：地址无效, 超大附件链接，需手工下载, 未报送."""
        if self.status == "accepted":
            return "有错误" if self.errors else "已接收"
        if self.status == "rejected":
            return "退回：" + (issues.TYPES[self.errors[0]["code"]].title if self.errors
                             and self.errors[0].get("code") in issues.TYPES else "有错误")
        if self.mail:
            return issues.TYPES[self.mail["code"]].title
        return "未报送"

    @property
    def bad_addresses(self) -> List[str]:
        return [self.mail["value"]] if self.mail and self.mail["code"] == "mail-bounced" else []


def unit_states(con, period: str, units: Iterable[str]) -> Dict[str, UnitState]:
    """Each unit's current return (newest accepted, else newest rejected) and its issues_v rows."""
    from minshi_xls.reconcile import current_returns
    states = {u: UnitState(u) for u in units}
    for unit, r in current_returns(con, period).items():
        st = states.get(unit)
        if st is None:
            continue
        st.status, st.received_at, st.file_sha256 = r["status"], r["received_at"], r["sha256"]
        st.file_name = re.split(r"[\\/!]", r["source_path"] or "")[-1]
    for st in states.values():
        if not st.file_sha256:
            continue
        found = con.execute(
            "SELECT DISTINCT severity, sheet, cell, indicator_id, value, message, code"
            " FROM issues_v WHERE period = ? AND unit = ? AND file_sha256 = ?"
            " AND severity IN ('error', 'warning')",
            (period, st.unit, st.file_sha256)).fetchall()
        for i in sorted(found, key=lambda i: (i["sheet"] or "", _cell_order(i["cell"]))):
            (st.errors if i["severity"] == issues.ERROR else st.warnings).append(dict(i))
    for unit, note in ledger.mail_states(con, period).items():
        if unit in states and states[unit].status is None:
            states[unit].mail = note
    for unit, files in ledger.mail_files(con, period).items():
        if unit in states:
            states[unit].extra_files = [f["name"] for f in files]
    return states


def _cell_order(cell: Optional[str]) -> Tuple[int, str]:
    m = re.match(r"([A-Z]+)(\d+)$", cell or "")
    return (int(m.group(2)), m.group(1)) if m else (0, cell or "")


def _where(i: dict) -> str:
    parts = []
    if i.get("sheet"):
        parts.append(f"工作表“{i['sheet']}”")
    if i.get("cell"):
        parts.append(f"单元格 {i['cell']}")
    where = " ".join(parts) or "整个文件"
    return f"{where}（指标 {i['indicator_id']}）" if i.get("indicator_id") else where


#: What the reminder says when the unit's last reply was not a return (fetch's mail-* codes).
MAIL_STATE_WORDS = {
    "mail-no-attachment": "你单位{got}的回复邮件没有附带{label}填报表，尚未计为报送。",
    "mail-auto-reply": "我们只收到你单位邮箱的自动回复，尚未收到{label}填报表。",
    "mail-link-only": "你单位{got}发来的是下载链接（超大附件或网盘），不是邮件附件，系统无法收取。",
    "mail-too-large": "你单位{got}发来的邮件超过大小限制，未能接收（文件过大）。请只发送填报表，不要附带其他大文件，",
    "mail-own-workbook": "你单位{got}发回的是下发的空白填报表，没有填写内容，尚未计为报送。",
    "mail-unreadable": "你单位{got}发来的邮件无法读取，尚未计为报送。",
}


def remind_body(unit: Unit, period: str, state: UnitState, config: Optional[dict] = None,
                annotated: bool = False, due_date: Optional[date] = None,
                today: Optional[date] = None) -> str:
    """The reminder text: what is missing, or exactly which cells to fix."""
    label, today = period_label(period), today or office_today(config)
    due_date = due_date or deadline(period, config)
    due = chinese_date(due_date)
    office = _section(config, "office")
    lines = [f"{unit.name or unit.short}：", ""]
    tz = clock.zone(config)
    if state.status is None:
        when = f"请于{due}（含）前" if today <= due_date else f"报送截止日期（{due}）已过，请尽快"
        note = state.mail or {}
        got = clock.show(note.get("mail_date"), tz)
        got = f"{got} " if got else ""
        said = MAIL_STATE_WORDS.get(note.get("code"))
        if said:
            lines.append(f"    {said.format(got=got, label=label, found=note.get('value') or '')}"
                         f"{when}将填好的表格作为附件，直接回复本邮件报送。")
        else:
            lines.append(f"    截至{chinese_date(today)}，尚未收到你单位{label}民生实事推进情况填报表。"
                         f"{when}填写附件中的填报表，并直接回复本邮件报送。")
    else:
        got = clock.show(state.received_at, tz)
        lines.append(f"    你单位{got and got + ' '}报送的{label}填报表有以下 {len(state.errors)} 处错误，"
                     "请在附件表格中逐项修改后，将整个表格重新回复本邮件报送"
                     + ("（附件是你单位报送的表格，已标出问题单元格）：" if annotated else "："))
        lines.append("")
        for n, i in enumerate(state.errors, 1):
            lines.append(f"    {n}. {_where(i)}：{i['message']}")
    if state.warnings:
        lines += ["", "    另有以下内容请核实（如无误可不修改，请在备注中说明）："]
        for n, i in enumerate(state.warnings, 1):
            lines.append(f"    {n}. {_where(i)}：{i['message']}")
    contact = _contact_line(config)
    if contact:
        lines += ["", f"    如有疑问请联系：{contact}。"]
    lines += ["", f"{office.get('name') or ''}", chinese_date(today)]
    return "\n".join(lines) + "\n"


def reminder_attachment(db_path, period: str, unit: str, templates_dir,
                        state: Optional[UnitState] = None) -> Tuple[Optional[Path], bool]:
    """(file, annotated): the annotated copy of the unit's current return when collect made
    one, so the unit fixes the cells marked in its own file; else the template."""
    if state is not None and state.file_name:
        from minshi_xls.collect import annotated_dir, annotated_path
        p = annotated_path(annotated_dir(db_path, period), unit, state.file_name)
        if p.is_file():
            return p, True
    return template_path(templates_dir, period, unit), False


def remind(master, period: str, db_path, config=None, templates_dir=None,
           outbox=None, dry_run: bool = False, progress: Optional[Progress] = None) -> SendResult:
    """Write to each unit with no accepted return or with errors, listing what to fix."""
    master, config = _master(master), _config(config)
    settings.period_parts(period)
    templates_dir = templates_dir or settings.DEFAULT_TEMPLATES
    units = _expected_units(master, config)
    con = ledger.connect(db_path)
    try:
        states = unit_states(con, period, [u.short for u in units])
        # the latest workbook mail per unit: the reminder joins its thread
        thread = {r["unit"]: r["message_id"] for r in con.execute(
            "SELECT unit, message_id FROM sends WHERE kind = 'send' AND period = ?"
            " AND status = 'sent' ORDER BY id", (period,))}
    finally:
        con.close()
    jobs: List[Tuple[Delivery, Optional[_Job]]] = []
    for u in units:
        st = states[u.short]
        if not st.needs_reminder:
            continue
        # an address that bounced is not written to again until the master is corrected
        addrs = [a for a in u.addresses if a not in st.bad_addresses]
        d = Delivery(u.short, ", ".join(addrs or u.addresses))
        path, annotated = reminder_attachment(db_path, period, u.short, templates_dir, st)
        if not addrs:
            d.status = "bounced" if u.addresses else "no-email"
            d.detail = "、".join(st.bad_addresses)
            jobs.append((d, None))
            continue
        if addrs != u.addresses:
            u = dataclasses.replace(u, email=", ".join(addrs))
        msg = build_message(u, period, path, config, kind="remind",
                            body=remind_body(u, period, st, config, annotated,
                                             workbook_deadline(template_path(
                                                 templates_dir, period, u.short), period, config)),
                            attachment_name=columns.file_name(period, u.short) if path else None,
                            reply_to=thread.get(u.short))
        jobs.append((d, _Job(u, msg, path.name if path else "")))
    return _deliver(jobs, "remind", period, db_path, config, outbox, dry_run, progress)
