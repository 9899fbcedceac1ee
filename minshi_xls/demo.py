"""``minshi demo``: the whole monthly cycle on the bundled 2024 notice, in a fresh folder.

Import the notice, write the fill-in workbooks for May and June 2024, fill them the way bureaus
and counties really do (openpyxl on the distributed files: most clean, some late, some with the
usual mistakes, one unit silent in June), collect both months, reconcile, write the 通报. Seeded,
so every run gives the same figures; the planted mistakes and everything typed are returned so
tests can check the consolidated workbook against what the "units" reported.
"""
from __future__ import annotations

import math
import random
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import openpyxl
from openpyxl.utils import get_column_letter

from minshi_xls import MinshiError, progress as prog, settings
from minshi_xls import columns as C
from minshi_xls.model import Incoming, Indicator, Master
from minshi_xls.reconcile import lead_units, territorial_sharers

SEED = 2024
PERIODS = ("2024-05", "2024-06")
SILENT = "市体育局"  # sends nothing in June (it reported in May: its figures carry forward)
LATE = ("市交通局", "市水利局", "灌云县")  # June returns after the deadline
RESENDER = "团市委"  # sends a first draft with an error in June, then the corrected file
DRAFTS = "初稿"  # subfolder of returns/<period>/ holding that first draft
MARKER = ".minshi_demo"
PLAN_HEADERS = [c.header for c in C.LEAD_COLUMNS if c.kind == C.PLAN]
PLAN_SHAPE = (0.15, 0.45, 0.75, 1.0)

#: The typical mistakes, planted in June: (code, indicator id, unit).
MISTAKES = (
    ("coerced-number", "省-1#1", "市卫健委"),  # "3家" typed in the number cell
    ("exceeds-target", "市-3.2#1", "市人社局"),  # 元 typed where the row asks for 万元
    ("missing-text", "省-23#1", "市民政局"),  # a number and no 进展情况
    ("status-inconsistent", "省-30#1", "市农业农村局"),  # 已完成 chosen below the target
    ("cumulative-decreased", "省-54#1", "市邮政管理局"),  # below May's figure
    ("template-modified", "省-27#1", "市残联"),  # the target quietly changed
    ("lead-mismatch", "市-17.1#0", "市住建局"),  # one of three lead units disagrees
)

Progress = Optional[Callable[[int, int, str], None]]


@dataclass
class Planted:
    """A mistake put into a return on purpose, and where the tool must report it."""

    period: str
    unit: str
    code: str
    indicator_id: str
    sheet: str
    cell: str
    typed: object


@dataclass
class DemoResult:
    folder: Path
    master_path: Path
    db_path: Path
    workbook: Path
    csv: Path
    summary_path: Path
    summary_text: str
    reconciliation: object
    planted: List[Planted] = field(default_factory=list)
    #: (period, unit, sheet, indicator id) -> {header: value typed}
    typed: Dict[Tuple[str, str, str, str], Dict[str, object]] = field(default_factory=dict)
    returns: Dict[str, List[Path]] = field(default_factory=dict)  # period -> files sent back
    seconds: float = 0.0

    def summary_lines(self) -> List[str]:
        from minshi_xls import report
        rec = self.reconciliation
        lines = [f"演示完成（{self.seconds:.1f} 秒），文件夹：{self.folder}",
                 f"进展汇总表：{self.workbook}", f"通报：{self.summary_path}",
                 f"通报（公文格式）：{report.bulletin_path(self.summary_path, PERIODS[-1])}", ""]
        lines += rec.headline_lines()
        oi = rec.open_issues
        lines.append(f"报送：{rec.received}/{len(rec.expected)} 个单位；待处理问题：错误 {oi['error']} 个，"
                     f"警告 {oi['warning']} 个")
        head = self.summary_text.split("滞后事项：")[0]
        lines += ["", head + ("……（全文见通报文件）" if head != self.summary_text else "")]
        return lines


# --- the simulated units -------------------------------------------------------------------------

class Simulation:
    """What each indicator really achieved by month n: a seeded pace per indicator."""

    def __init__(self, master: Master, seed: int = SEED):
        rng = random.Random(seed)
        self.pace: Dict[str, Tuple[str, float]] = {}
        for task, ind in master.rows():
            if not task.is_local:
                continue
            x = rng.random()
            kind = ("done" if x < 0.12 else "ahead" if x < 0.30 else "on" if x < 0.90
                    else "behind" if x < 0.98 else "idle")
            factor = {"done": 1.0, "ahead": rng.uniform(1.25, 1.5),
                      "on": rng.uniform(0.97, 1.03), "behind": rng.uniform(0.5, 0.8),
                      "idle": 0.0}[kind]
            self.pace[ind.id] = (kind, factor)
        for _, ind_id, _ in MISTAKES:  # a planted mistake needs a row that has progressed
            self.pace[ind_id] = ("on", 1.0)

    def value(self, ind: Indicator, month: int, sharers: Sequence[str] = ()) -> float:
        """The lead unit's cumulative; with counties sharing the row, the sum of their figures
        (so the county check has something true to check)."""
        if sharers and not ind.is_milestone:
            return round(sum(self.shares(ind, month, sharers).values()), 2)
        target = ind.target_number or 0.0
        return rounded(target * self.fraction(ind, month), target)

    def plan(self, ind: Indicator) -> Optional[List[float]]:
        """A quarterly plan (cumulative at each quarter end) for about a third of the rows, the
        way lead units plan: slow first quarter, done by the end of the year."""
        if ind.is_milestone or hash_unit(ind.id) % 3 or not ind.target_number:
            return None
        return [rounded(ind.target_number * q, ind.target_number) for q in PLAN_SHAPE]

    def fraction(self, ind: Indicator, month: int) -> float:
        kind, factor = self.pace[ind.id]
        return min(1.0, month / 6) if kind == "done" else min(1.0, factor * month / 12)

    def shares(self, ind: Indicator, month: int, sharers: Sequence[str]) -> Dict[str, float]:
        """Each county's own cumulative: its part of the target times the indicator's progress,
        so every county's figure grows month by month like the total."""
        target = ind.target_number or 0.0
        weights = [1 + hash_unit(u) % 3 for u in sharers]
        parts = [target * w / sum(weights) for w in weights]
        frac = self.fraction(ind, month)
        return {u: rounded(p * frac, target) for u, p in zip(sharers, parts)}


def hash_unit(name: str) -> int:
    """A stable small number per unit name (``hash()`` of str is salted per process)."""
    return sum(ord(ch) for ch in name)


def rounded(x: float, target: float) -> float:
    """Whole numbers for whole targets of some size (6 家, 1500 名), two decimals otherwise;
    half up, as people round."""
    if float(target).is_integer() and target >= 6:
        return float(math.floor(x + 0.5))
    return math.floor(x * 100 + 0.5) / 100


def _texts(rng: random.Random, status: str, name: str) -> Dict[str, str]:
    progress_text = {
        prog.DONE: f"{name}已全部完成，正在做好验收和后续管理。",
        prog.AHEAD: f"{name}推进顺利，进度快于计划。",
        prog.ON_TRACK: f"{name}按计划推进，已完成阶段性任务。",
        prog.BEHIND: f"{name}受前期手续影响进度偏慢，正在加快推进。",
        prog.NOT_STARTED: f"{name}正在开展前期准备工作。",
    }[status]
    problems = rng.choice(["无", "无", "资金到位偏慢", "部分点位选址调整", ""])
    return {"进展情况": progress_text, "存在问题": problems,
            "下步计划": rng.choice(["加快推进，确保按期完成。", "加强调度，倒排工期。", "做好验收准备。"])}


# --- filling a workbook as a unit would ----------------------------------------------------------

def _header_map(ws) -> Dict[str, int]:
    return {C.plain_header(c.value).strip(): c.column for c in ws[C.HEADER_ROW] if c.value}


def _mailed(path: Path, when: datetime) -> Incoming:
    """A simulated return as it arrives by mail: the mail's date is its receipt time."""
    sent = when.isoformat(timespec="seconds")
    return Incoming(path.name, path.read_bytes(), str(path), mail_date=sent, received_at=sent)


def _fill(template: Path, out: Path, period: str, unit: str, sim: Simulation, master: Master,
          month: int, june: bool, rng: random.Random, planted: List[Planted],
          typed: Dict) -> None:
    wb = openpyxl.load_workbook(template)
    mistakes = {(ind, u): code for code, ind, u in MISTAKES} if june else {}
    for sheet in (C.SHEET_LEAD, C.SHEET_CO):
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        cells = C.HEADER_CELLS[sheet]
        ws[cells[C.REPORTER_LABEL][1]] = rng.choice(["张伟", "王芳", "李娜", "刘洋", "陈静"])
        ws[cells[C.PHONE_LABEL][1]] = f"0518-{8500_0000 + hash_unit(unit) * 37 % 10_000_000}"
        ws[cells[C.DATE_LABEL][1]] = f"{int(period[:4]) + (month == 12)}-{month % 12 + 1:02d}-03"
        cols = _header_map(ws)
        lead = sheet == C.SHEET_LEAD
        num_header = C.column(C.LEAD_COLUMNS if lead else C.CO_COLUMNS, "cumulative").header
        for r in range(C.FIRST_DATA_ROW, ws.max_row + 1):
            ind_id = ws.cell(r, cols["指标编号"]).value
            if not ind_id:
                continue
            ind = master.indicator(ind_id)
            task = master.task(ind.task_id)
            sharers = territorial_sharers(master, task, lead_units(master, task))
            value = sim.value(ind, month, sharers)
            vals: Dict[str, object] = {}
            if lead:
                plan = sim.plan(ind)
                status = prog.for_indicator(ind, value, month, reported_plan=plan).status
                if rng.random() < 0.08 and status in (prog.BEHIND, prog.AHEAD):
                    status = prog.ON_TRACK  # units round their status towards "on track"
                vals = {num_header: value, "推进状态": status, **_texts(rng, status, ind.name)}
                if plan and period == PERIODS[0]:  # the plan is typed once, in the first month
                    vals.update(zip(PLAN_HEADERS, plan))
            else:
                if "本单位累计完成" in cols and ws.cell(r, cols[num_header]).protection.locked:
                    continue  # a bureau's co row: text only, nothing to fill
                if ind.is_milestone:
                    share = sim.value(ind, month)  # a county reports its own 形象进度
                elif unit in sharers:
                    share = sim.shares(ind, month, sharers)[unit]
                else:
                    continue
                vals = {num_header: share, "配合工作情况": "配合牵头单位推进，本地任务按计划实施。"}
            code = mistakes.get((ind_id, unit))
            if code:
                target_col = cols.get("年度目标")
                where = {"template-modified": "年度目标", "status-inconsistent": "推进状态",
                         "missing-text": "进展情况"}.get(code, num_header)
                if code == "coerced-number":
                    vals[num_header] = f"{int(value)}{ind.unit}"
                elif code == "exceeds-target":
                    vals[num_header] = value * 10000  # 元, not 万元
                elif code == "missing-text":
                    vals["进展情况"] = ""
                elif code == "status-inconsistent":
                    vals["推进状态"] = prog.DONE
                elif code == "cumulative-decreased":
                    vals[num_header] = rounded(sim.value(ind, month - 1, sharers) * 0.8,
                                               ind.target_number)
                elif code == "template-modified":
                    ws.cell(r, target_col).value = int(ind.target_number) - 1
                elif code == "lead-mismatch":
                    vals[num_header] = min(100.0, value + 10)
                cell = f"{get_column_letter(cols[where])}{r}"
                planted.append(Planted(period, unit, code, ind_id, sheet, cell,
                                       ws.cell(r, target_col).value
                                       if code == "template-modified" else vals.get(where)))
            for header, v in vals.items():
                ws.cell(r, cols[header]).value = v if v != "" else None
            typed[(period, unit, sheet, ind_id)] = vals
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)


def _draft(final: Path, out: Path, period: str, unit: str) -> Planted:
    """The unit's first version: "约" before its first figure (not a number); superseded later."""
    wb = openpyxl.load_workbook(final)
    ws = wb[C.SHEET_LEAD]
    cols = _header_map(ws)
    header = C.column(C.LEAD_COLUMNS, "cumulative").header
    cell = ws.cell(C.FIRST_DATA_ROW, cols[header])
    cell.value = f"约{cell.value:g}"
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    ind_id = ws.cell(C.FIRST_DATA_ROW, cols["指标编号"]).value
    return Planted(period, unit, "not-a-number", ind_id, C.SHEET_LEAD, cell.coordinate,
                   cell.value)


# --- the cycle -----------------------------------------------------------------------------------

def _prepare(folder: Path) -> None:
    """A fresh folder, or one an earlier demo made (recreated); never someone's own files."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise MinshiError(f"文件夹 {folder} 不是空的，演示不会覆盖其中的文件。请指定一个新文件夹。")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("minshi demo\n", encoding="utf-8")


def run_demo(folder, progress: Progress = None) -> DemoResult:
    """Run the whole cycle in ``folder``; returns where the workbook is and what was planted."""
    import time

    from minshi_xls import collect, master as master_mod, notice, report, summary, templates

    t0 = time.perf_counter()
    folder = Path(folder)
    _prepare(folder)
    steps = 2 + 4 * len(PERIODS)
    done = 0

    def step(label):
        nonlocal done
        done += 1
        if progress:
            progress(done, steps, label)

    out = folder / settings.DEFAULT_OUTPUT
    master_path = out / "master.xlsx"
    db_path = out / "minshi.sqlite"
    master_mod.import_notice(notice.bundled_notice_path(), master_path)
    master = master_mod.read_master(master_path)
    config = settings.DEFAULTS  # the demo never reads a minshi.toml lying around
    step("导入通知")

    sim = Simulation(master)
    rng = random.Random(SEED + 1)
    planted: List[Planted] = []
    typed: Dict = {}
    returns: Dict[str, List[Path]] = {}
    result = None
    for period in PERIODS:
        year, month = settings.period_parts(period)
        june = period == PERIODS[-1]
        tdir = folder / settings.DEFAULT_TEMPLATES / period
        info = templates.write_templates(master, period, tdir, config=config, db=db_path)
        step(f"{period} 填报表")
        deadline = datetime.combine(info.deadline, datetime.min.time()) + timedelta(hours=17)
        rdir = folder / "returns" / period
        returns[period] = []
        arrivals: List[Incoming] = []  # as fetch hands them over: each with its mail's date
        for n, unit in enumerate(master.reporting_units()):
            if june and unit == SILENT:
                continue
            src = tdir / C.file_name(period, unit)
            dst = rdir / src.name
            _fill(src, dst, period, unit, sim, master, month, june, rng, planted, typed)
            late = june and unit in LATE
            when = deadline + (timedelta(days=2, hours=n % 5) if late
                               else -timedelta(days=4, hours=n % 48))
            arrivals.append(_mailed(dst, when))
            returns[period].append(dst)
            if june and unit == RESENDER:  # a first draft, sent a day before the corrected file
                draft = rdir / DRAFTS / src.name
                planted.append(_draft(dst, draft, period, unit))
                arrivals.append(_mailed(draft, when - timedelta(days=1)))
        step(f"{period} 模拟报送")
        collect.ingest(arrivals, period, db_path, master, config)
        step(f"{period} 收取")
        result = report.reconcile(master, period, db_path, out / period, config)
        step(f"{period} 汇总")
    text, spath = summary.write_summary(result.reconciliation, out / PERIODS[-1])
    step("通报")
    return DemoResult(folder=folder, master_path=master_path, db_path=db_path,
                      workbook=result.workbook, csv=result.csv, summary_path=spath,
                      summary_text=text, reconciliation=result.reconciliation, planted=planted,
                      typed=typed, returns=returns, seconds=time.perf_counter() - t0)
