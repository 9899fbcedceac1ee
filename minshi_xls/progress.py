"""序时进度, 完成率 and status: the office's rules, as pure functions (no I/O).

Everything here works in the notice's unit (what units report in): the ratio cumulative/target is
the same in base units, and the quarterly plan is written in the notice's unit too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from minshi_xls.model import Indicator
from minshi_xls.settings import NOT_REPORTED

DONE, AHEAD, ON_TRACK, BEHIND, NOT_STARTED = "已完成", "超序时", "序时推进", "滞后", "未启动"

#: Worst first: a task takes the worst status of its indicators. 未报送 (nothing known) ranks
#: worst so that a task is never shown better than what has been reported for it.
SEVERITY = (NOT_REPORTED, NOT_STARTED, BEHIND, ON_TRACK, AHEAD, DONE)

DEFAULT_TOLERANCE = 5.0


@dataclass(frozen=True)
class Progress:
    """The computed figures of one indicator (or 形象进度 row) for one month.

    ``rate`` and ``scheduled`` are fractions of the annual target (0.5 = 50 %), not capped;
    ``gap`` is in percentage points (rate − scheduled, ×100).
    """

    rate: Optional[float]
    scheduled: Optional[float]
    gap: Optional[float]
    status: str


def scheduled_value(target: float, month: int,
                    plan: Optional[Sequence[Optional[float]]] = None) -> float:
    """Planned cumulative value at the end of ``month`` (notice's unit).

    With a complete quarterly plan (cumulative at the end of Q1..Q4) months between quarter ends
    are interpolated linearly from 0 at the start of the year; without one, target × n/12.
    """
    if not 1 <= month <= 12:
        raise ValueError(f"month out of range: {month}")
    if complete(plan):
        points = [(0, 0.0)] + [(3 * (q + 1), float(plan[q])) for q in range(4)]
        for (m0, v0), (m1, v1) in zip(points, points[1:]):
            if m0 <= month <= m1:
                return v0 + (v1 - v0) * (month - m0) / (m1 - m0)
    return target * month / 12.0


def reached(value: float, target: float, qualifier: str = "=",
            tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """Whether ``value`` meets the target as the notice words it.

    "以上/不少于" and plain targets are met at the target; "多/余" (more than) needs more;
    "左右" (about) is met within ``tolerance`` percentage points below it; "以内/不超过" (an upper
    bound) is met while at or below it; a range "X—Y" is met from its low end X (the target).
    """
    if qualifier == "<=":
        return value <= target
    if qualifier == ">":
        return value > target
    if qualifier == "~":
        return value >= target * (1 - tolerance / 100.0)
    return value >= target


def compute(cumulative: Optional[float], target: Optional[float], month: int, *,
            qualifier: str = "=", plan: Optional[Sequence[Optional[float]]] = None,
            tolerance: float = DEFAULT_TOLERANCE) -> Progress:
    """Figures and status of one row; ``cumulative`` None means nothing was ever accepted
    (a carried-forward value is passed as the cumulative: it is still the best figure known)."""
    if cumulative is None:
        sched = scheduled_value(target, month, plan) / target if target and target > 0 else None
        return Progress(None, sched, None, NOT_REPORTED)
    if target is None or target <= 0:
        # No usable target (a hand-edited master with a bad one): nothing to compare against.
        return Progress(None, None, None, NOT_STARTED if cumulative == 0 else ON_TRACK)
    if qualifier == "<=":
        # An upper bound (平均等候时间控制在30分钟以内) is a state, not a quantity accumulated over
        # the year: no completion rate or schedule, only met (已完成) or not (滞后).
        return Progress(None, None, None, DONE if cumulative <= target else BEHIND)
    rate = cumulative / target
    scheduled = scheduled_value(target, month, plan) / target
    gap = (rate - scheduled) * 100.0
    if reached(cumulative, target, qualifier, tolerance):
        status = DONE
    elif cumulative <= 0 and scheduled > 0:
        status = NOT_STARTED
    elif gap > tolerance:
        status = AHEAD
    elif gap < -tolerance:
        status = BEHIND
    else:
        status = ON_TRACK
    return Progress(rate, scheduled, gap, status)


def complete(plan: Optional[Sequence[Optional[float]]]) -> bool:
    return bool(plan) and len(plan) == 4 and all(p is not None for p in plan)


def for_indicator(ind: Indicator, cumulative: Optional[float], month: int,
                  tolerance: float = DEFAULT_TOLERANCE,
                  reported_plan: Optional[Sequence[Optional[float]]] = None) -> Progress:
    """:func:`compute` with the target and qualifier of a master indicator; the plan is the
    master's when complete, else the one the lead unit reported in its return."""
    plan = ind.plan if complete(ind.plan) else reported_plan
    return compute(cumulative, ind.target_number, month, qualifier=ind.qualifier, plan=plan,
                   tolerance=tolerance)


def task_status(statuses: Iterable[str]) -> str:
    """The worst status of a task's indicators; 已完成 only when every one is."""
    ss = [s for s in statuses if s]
    if not ss:
        return NOT_REPORTED
    return min(ss, key=lambda s: SEVERITY.index(s) if s in SEVERITY else 0)


def tolerance_from(config: Optional[dict]) -> float:
    """``rules.status_tolerance_points`` of a loaded config (settings.load_config)."""
    if not config:
        return DEFAULT_TOLERANCE
    return float(config.get("rules", {}).get("status_tolerance_points", DEFAULT_TOLERANCE))
