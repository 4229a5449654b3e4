"""bench/calibrate.py's fit (issue 10, point 1): the lowest threshold that keeps wrong among
ok within the target, and — of the rules that hold — one asking for a second opinion while
it costs little (EVIDENCE_COST)."""

from __future__ import annotations

from bench.calibrate import EVIDENCE_COST, Sample, fit


def _samples(disagreeing_right: int) -> list[Sample]:
    """200 right readings at 0.90–0.99, `disagreeing_right` of them read otherwise by the
    second view; 1 wrong reading at 0.95 that the second view reads otherwise too."""
    right = [
        Sample(0.90 + 0.09 * i / 199, True, i >= disagreeing_right, True, cross=True)
        for i in range(200)
    ]
    return [*right, Sample(0.95, True, False, False, cross=True)]


def test_the_lowest_threshold_that_holds_is_chosen():
    s = _samples(0)
    f = fit(s, len(s), 0.0, cross=False, figures=False, evidence_cost=0.0)
    # on the score alone: only above the wrong reading; with agreement: all 200 right ones
    assert f.needs_agreement and f.ok == 200 and f.wrong_ok == 0


def test_a_second_opinion_that_costs_little_is_taken():
    s = _samples(4)  # agreement costs 4 of 200 right readings (2 %)
    cheap = fit(s, len(s), 0.01, cross=False, figures=False)
    assert EVIDENCE_COST >= 0.02
    assert cheap.needs_agreement and cheap.ok == 196 and cheap.wrong_ok == 0
    # without the preference, the score alone (201 ok, 1 wrong: 0.50 %) wins at a 1 % target
    plain = fit(s, len(s), 0.01, cross=False, figures=False, evidence_cost=0.0)
    assert not plain.needs_agreement and plain.ok == 201 and plain.wrong_ok == 1


def test_a_second_opinion_that_costs_much_is_not():
    s = _samples(40)  # agreement costs 20 % of the right readings
    f = fit(s, len(s), 0.01, cross=False, figures=False)
    assert not f.needs_agreement and f.ok == 201
