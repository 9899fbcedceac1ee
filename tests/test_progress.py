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


# --- boundaries (each one a surviving mutant of progress.py; see docs/testing.md) ---------------

def test_nothing_reported_still_shows_the_schedule_its_plan_gives():
    assert compute(None, 1000, 5, plan=[100, 400, 700, 1000]).scheduled == pytest.approx(0.3)
    assert compute(None, 0.5, 6).scheduled == pytest.approx(0.5)  # a target below 1 (万元)
    assert compute(None, 0, 6).scheduled is None and compute(None, None, 6).scheduled is None


def test_without_a_usable_target_only_started_or_not_is_known():
    assert compute(0, 0, 6) == progress.Progress(None, None, None, NOT_STARTED)
    assert compute(5, 0, 6) == progress.Progress(None, None, None, ON_TRACK)
    assert compute(1, None, 6).status == ON_TRACK and compute(0, None, 6).status == NOT_STARTED
    assert compute(-1, -5, 6).status == ON_TRACK
    p = compute(1, 1, 6)  # a target of 1 (一个中心) is a real target
    assert (p.rate, p.status) == (pytest.approx(1.0), DONE)


def test_an_upper_bound_met_exactly_is_done():
    assert compute(30, 30, 6, qualifier="<=").status == DONE


def test_the_tolerance_band_is_inclusive_on_both_sides():
    # 9/16 and 7/16 against a schedule of 1/2: exactly 6.25 points either side (exact in binary)
    assert compute(9, 16, 6, tolerance=6.25).status == ON_TRACK
    assert compute(7, 16, 6, tolerance=6.25).status == ON_TRACK
    assert compute(9, 16, 6, tolerance=6.0).status == AHEAD
    assert compute(7, 16, 6, tolerance=6.0).status == BEHIND


def test_not_started_means_nothing_done_while_something_was_due():
    assert compute(0.5, 100, 6).status == BEHIND  # started, however little
    # a plan with nothing due before the second quarter: 0 in February is on schedule
    assert compute(0, 100, 2, plan=[0, 50, 75, 100]).status == ON_TRACK
    assert compute(0, 100, 4, plan=[0, 50, 75, 100]).status == NOT_STARTED


def test_about_a_target_is_met_at_the_tolerance_exactly_and_the_tolerance_is_used():
    assert progress.reached(95, 100, "~") and not progress.reached(94.9, 100, "~")
    assert not progress.reached(50, 100, "~")
    assert progress.reached(85, 100, "~", tolerance=15.0)
    assert compute(10.5, 12, 6, qualifier="~", tolerance=15.0).status == DONE
    assert compute(10.5, 12, 6, qualifier="~").status != DONE


def test_the_plan_ends_the_year_where_the_lead_unit_put_it():
    assert progress.scheduled_value(1000, 12, [100, 400, 700, 900]) == pytest.approx(900)
    with pytest.raises(ValueError, match="month out of range: 13"):
        progress.scheduled_value(1000, 13)
    with pytest.raises(ValueError, match="month out of range: 0"):
        progress.scheduled_value(1000, 0)


def test_for_indicator_passes_qualifier_tolerance_and_the_right_plan(master):
    more = master.indicator("市-7.2#1")  # "1个以上" worded as more than: '>'
    assert more.qualifier == ">" and more.target_number == 1
    assert progress.for_indicator(more, 1, 6).status != DONE
    about = master.indicator("省-7#1")  # 12 个左右
    assert progress.for_indicator(about, 10.5, 6, tolerance=15.0).status == DONE
    ind = master.indicator("省-9#1")
    ind.plan = None
    reported = [200, 900, 2500, 3500]
    assert progress.for_indicator(ind, 0, 6, reported_plan=reported).scheduled == \
        pytest.approx(900 / 3500)
    ind.plan = [100, 400, None, None]  # an incomplete master plan does not hide the reported one
    assert progress.for_indicator(ind, 0, 6, reported_plan=reported).scheduled == \
        pytest.approx(900 / 3500)
    ind.plan = None


def test_an_unknown_status_ranks_worst():
    assert progress.task_status([NOT_STARTED, "其他"]) == "其他"
    assert progress.task_status([]) == NOT_REPORTED


def test_tolerance_defaults_when_the_config_has_no_rule():
    assert progress.tolerance_from({"rules": {}}) == progress.DEFAULT_TOLERANCE
    assert progress.tolerance_from({"office": {"name": "x"}}) == progress.DEFAULT_TOLERANCE
    assert progress.tolerance_from(None) == progress.DEFAULT_TOLERANCE
