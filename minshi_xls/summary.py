"""The 通报 paragraph: the month's progress in the office's own words.

Built from the same :class:`~minshi_xls.reconcile.Reconciliation` as the consolidated workbook,
so the numbers in the text and in the workbook cannot drift apart.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

from minshi_xls import progress, settings
from minshi_xls.reconcile import Reconciliation
from minshi_xls.settings import NOT_REPORTED

#: The statuses the paragraph always names, in the office's order.
NAMED = (progress.DONE, progress.AHEAD, progress.ON_TRACK, progress.BEHIND)


def points(x: float) -> str:
    """12.0 -> "12", 3.25 -> "3.3" (the paragraph's number style)."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _level_sentence(rec: Reconciliation, level: str) -> str:
    h = next(h for h in rec.headlines if h.level == level)
    head = f"{h.tasks}项{level}民生实事中"
    if h.local_tasks != h.tasks:
        head += f"（我市承担{h.local_tasks}项）"
    parts = [f"{s}{h.task_status[s]}项" for s in NAMED]
    if h.task_status[progress.NOT_STARTED]:
        parts.append(f"{progress.NOT_STARTED}{h.task_status[progress.NOT_STARTED]}项")
    text = f"{head}，" + "、".join(parts)
    if h.task_status[NOT_REPORTED]:
        text += f"，另有{h.task_status[NOT_REPORTED]}项尚未报送进展"
    return text


def lagging(rec: Reconciliation) -> List[dict]:
    """Tasks that are behind (滞后) or not started (未启动), level then master order, each with
    the largest shortfall of its indicators in percentage points."""
    out = []
    for level in rec.master.levels():
        for t in rec.master.tasks:
            st = rec.task_status.get(t.id)
            if t.level != level or st not in (progress.BEHIND, progress.NOT_STARTED):
                continue
            rows = [r for r in rec.rows if r.task is t]
            gaps = [r.progress.gap for r in rows if r.progress.gap is not None]
            out.append(dict(task=t, status=st, gap=-min(gaps) if gaps else None,
                            started=any(r.cumulative for r in rows),
                            leads="、".join(r for r in _leads(rec, t))))
    return out


def _leads(rec: Reconciliation, task) -> List[str]:
    for r in rec.rows:
        if r.task is task:
            return r.leads
    return list(task.lead_units)


def short_text(text: str, limit: int = 40) -> str:
    """A task's first sentence, cut at ``limit`` characters (市 tasks run to several sentences)."""
    first = text.split("。")[0].rstrip("；;，,")
    return first if len(first) <= limit else first[:limit].rstrip("，、；") + "……"


def lines(rec: Reconciliation) -> List[str]:
    """The paragraph as printable pieces: the status sentence, one piece per lagging task, the
    reporting sentence. Joined without separators they are exactly :func:`paragraph`."""
    out = [f"截至{rec.year}年{rec.month}月底，"
           + "；".join(_level_sentence(rec, lvl) for lvl in rec.master.levels()) + "。"]
    items = lagging(rec)
    for n, it in enumerate(items, 1):
        out.append(("滞后事项：" if n == 1 else "") + f"{n}.{lagging_text(it)}"
                   + ("。" if n == len(items) else "；"))
    out.append(reporting_sentence(rec))
    return out


def lagging_text(it: dict) -> str:
    """"改造提升6个…（省第4项，牵头单位：市民政局），尚未启动" for an item of :func:`lagging`."""
    t = it["task"]
    where = f"（{t.level}第{t.number}项，牵头单位：{it['leads']}）"
    if it["status"] == progress.NOT_STARTED:
        tail = "部分指标尚未启动" if it["started"] else "尚未启动"
    else:
        tail = f"滞后序时进度{points(it['gap'])}个百分点"
    return f"{short_text(t.text)}{where}，{tail}"


def reporting_sentence(rec: Reconciliation) -> str:
    missing = [r.unit for r in rec.expected if not r.returned]
    return (f"本月应报送单位{len(rec.expected)}个，已报送{rec.received}个"
            + (f"，未报送：{'、'.join(missing)}。" if missing else "，全部按要求报送。"))


def level_sentence(rec: Reconciliation, level: str) -> str:
    """"65项省民生实事中（我市承担56项），已完成4项、超序时22项……" for one level."""
    return _level_sentence(rec, level)


def tasks_with(rec: Reconciliation, status: str) -> List[Tuple[object, str]]:
    """(task, lead units) of the local tasks whose status is ``status``, level then master
    order."""
    return [(t, "、".join(_leads(rec, t))) for level in rec.master.levels()
            for t in rec.master.tasks if t.level == level and rec.task_status.get(t.id) == status]


def paragraph(rec: Reconciliation) -> str:
    """"截至2024年6月底，65项省民生实事中（我市承担56项），已完成X项、……滞后事项：1.……"."""
    return "".join(lines(rec))


def summary_path(period: str, out_dir=None) -> Path:
    out = Path(out_dir) if out_dir else Path(settings.DEFAULT_OUTPUT) / period
    return out / f"通报_{period}.txt"


def write_summary(rec: Reconciliation, out_dir=None) -> Tuple[str, Path]:
    """Save the paragraph as ``<out>/通报_<period>.txt``; returns (text, path)."""
    text = paragraph(rec)
    path = summary_path(rec.period, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    return text, path


def most_ahead(rec: Reconciliation, n: int) -> List[dict]:
    """The ``n`` tasks 超序时 furthest ahead, each with the smallest lead of its indicators in
    percentage points (the task is only as far ahead as its slowest indicator)."""
    out = []
    for t, leads in tasks_with(rec, progress.AHEAD):
        gaps = [r.progress.gap for r in rec.rows if r.task is t and r.progress.gap is not None]
        if gaps:
            out.append(dict(task=t, gap=min(gaps), leads=leads))
    return sorted(out, key=lambda it: -it["gap"])[:n]
