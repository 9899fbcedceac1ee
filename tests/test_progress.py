"""序时进度, 完成率 and status rules on indicators of the bundled notice."""
import pytest

from minshi_xls import notice, progress
from minshi_xls.progress import AHEAD, BEHIND, DONE, NOT_STARTED, ON_TRACK, compute
from minshi_xls.settings import NOT_REPORTED


@pytest.fixture(scope="module")
def master():
    return notice.load_bundled()


def test_schedule_is_target_times_n_over_12_without_a_plan(master):
    ind = master.indicator("省-8.2#1")  # 兜底帮扶 1500 名困难群体就业
    assert ind.target_number == 1500
    p = progress.for_indicator(ind, 600, 6)
    assert p.scheduled == pytest.approx(0.5)
    assert p.rate == pytest.approx(0.4)
    assert p.gap == pytest.approx(-10.0)
    assert p.status == BEHIND


def test_quarterly_plan_is_interpolated_between_quarter_ends():
    plan = [100, 400, 700, 1000]
    assert progress.scheduled_value(1000, 3, plan) == pytest.approx(100)
    assert progress.scheduled_value(1000, 6, plan) == pytest.approx(400)
    assert progress.scheduled_value(1000, 5, plan) == pytest.approx(300)  # 2/3 of Q1 -> Q2
    assert progress.scheduled_value(1000, 1, plan) == pytest.approx(100 / 3)
    # An incomplete plan falls back to the straight line.
    assert progress.scheduled_value(1000, 6, [100, None, 700, 1000]) == pytest.approx(500)


def test_plan_changes_the_status(master):
    ind = master.indicator("省-9#1")  # 3500 名青年参加就业见习
    assert progress.for_indicator(ind, 1000, 6).status == BEHIND  # 28.6 % vs 50 %
    ind.plan = [200, 900, 2500, 3500]  # the lead unit plans a slow first half
    p = progress.for_indicator(ind, 1000, 6)
    assert p.scheduled == pytest.approx(900 / 3500)
    assert p.status == ON_TRACK


@pytest.mark.parametrize("cum,expected", [
    (1750, ON_TRACK),  # exactly on schedule
    (1750 + 0.05 * 3500 - 1, ON_TRACK),  # within 5 points
    (1750 + 0.05 * 3500 + 1, AHEAD),
    (1750 - 0.05 * 3500 - 1, BEHIND),
    (0, NOT_STARTED),
    (3500, DONE),
    (4200, DONE),  # over target is still done, and the rate is not capped
])
def test_status_by_tolerance(cum, expected):
    p = compute(cum, 3500, 6)
    assert p.status == expected
    assert p.rate == pytest.approx(cum / 3500)


def test_tolerance_comes_from_config():
    cfg = {"rules": {"status_tolerance_points": 15.0}}
    tol = progress.tolerance_from(cfg)
    assert compute(1400, 3500, 6, tolerance=tol).status == ON_TRACK  # 10 points behind
    assert compute(1400, 3500, 6).status == BEHIND


def test_qualifiers_decide_completion(master):
    # "130 个以上" (>=): met at 130; "12 个左右" (~): met just under; "1 万多名" (>): needs more.
    assert compute(130, 130, 6, qualifier=">=").status == DONE
    assert compute(12 * 0.96, 12, 6, qualifier="~").status == DONE
    assert compute(12 * 0.96, 12, 6, qualifier="=").status != DONE
    assert compute(10000, 10000, 6, qualifier=">").status != DONE
    assert compute(10001, 10000, 6, qualifier=">").status == DONE
    quals = {ind.qualifier for _, ind in master.rows()}
    assert {">=", "~"} <= quals  # the notice really uses them


def test_nothing_reported_is_its_own_status():
    p = compute(None, 3500, 6)
    assert p.status == NOT_REPORTED and p.rate is None and p.scheduled == pytest.approx(0.5)


def test_milestone_rows_use_the_same_rules(master):
    task = master.task("市-17.1")  # no quantitative target: one 形象进度 row
    (row,) = task.report_rows()
    assert row.is_milestone
    assert progress.for_indicator(row, 45, 6).status == ON_TRACK
    assert progress.for_indicator(row, 30, 6).status == BEHIND
    assert progress.for_indicator(row, 100, 6).status == DONE


def test_task_takes_the_worst_and_is_done_only_when_all_are():
    assert progress.task_status([DONE, DONE]) == DONE
    assert progress.task_status([DONE, AHEAD]) == AHEAD
    assert progress.task_status([AHEAD, BEHIND, ON_TRACK]) == BEHIND
    assert progress.task_status([BEHIND, NOT_STARTED]) == NOT_STARTED
    assert progress.task_status([DONE, NOT_REPORTED]) == NOT_REPORTED


def test_an_upper_bound_is_met_at_or_below_it_and_has_no_rate():
    """控制在30分钟以内: a state, not an amount accumulated over the year."""
    assert progress.reached(28, 30, "<=") and progress.reached(30, 30, "<=")
    assert not progress.reached(31, 30, "<=")
    p = compute(25, 30, 6, qualifier="<=")
    assert (p.rate, p.scheduled, p.gap, p.status) == (None, None, None, DONE)
    assert compute(35, 30, 6, qualifier="<=").status == BEHIND
    assert compute(None, 30, 6, qualifier="<=").status == NOT_REPORTED


def test_a_range_is_met_from_its_low_end():
    """新增托育机构10—15家: the target is the low end, 10."""
    from minshi_xls.model import Indicator
    ind = Indicator(id="市-5#1", name="托育机构", target="10", unit="家", qualifier="range",
                    target_high="15", base_value=10.0, base_unit="家")
    assert progress.for_indicator(ind, 10, 12).status == DONE
    p = progress.for_indicator(ind, 5, 6)
    assert p.rate == pytest.approx(0.5) and p.status == ON_TRACK
    assert ind.target_suffix == "—15"
    assert Indicator(id="x#1", name="", target="3", unit="%", qualifier="<=").target_suffix == "以内"
