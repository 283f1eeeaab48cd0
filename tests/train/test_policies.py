"""Precision policies: widths per phase, exponent rules, the adaptive rule and its hysteresis."""

import pytest

from golden.train.gemms import StepStats
from golden.train.network import LAYERS, tensor_keys
from golden.train.exponents import AutoflexRule, MaxRule
from golden.train.policies import Adaptive, Context
from golden.train.registry import POLICIES, make_policy


def ctx(epoch=0, epochs=20, step=0):
    return Context(step=step, epoch=epoch, epochs=epochs, steps_per_epoch=10)


def test_unknown_policy_lists_the_allowed_ones():
    with pytest.raises(ValueError) as info:
        make_policy("fixed-7")
    assert str(info.value) == ("policy must be one of float32, fixed-4, fixed-8, fixed-12, "
                               "fixed-16, two-phase, two-phase-float, adaptive, autoflex, "
                               "cyclic, progressive, per-role, wide-ends, metric (a fixed-point "
                               "one may end in +headroom), not 'fixed-7'")


@pytest.mark.parametrize("name", POLICIES)
def test_every_policy_covers_every_tensor(name):
    w = make_policy(name).decide(ctx()).widths
    assert w is None if name == "float32" else set(w) == set(tensor_keys())


@pytest.mark.parametrize("name,first,second", [("two-phase", 8, 16), ("two-phase-float", 8, None),
                                               ("fixed-12", 12, 12), ("autoflex", 8, 8)])
def test_phases(name, first, second):
    p = make_policy(name)
    for epoch in range(20):
        w = p.decide(ctx(epoch=epoch)).widths
        want = first if epoch < 10 else second
        assert (w is None) if want is None else set(w.values()) == {want}, epoch


def test_max_rule_uses_the_previous_maximum_and_calibrates_first():
    rule, key = MaxRule(), ("conv1", "updates")
    assert rule.predict(key, 8, -3) == 8 - 1 + 3          # |v| < 2**-3: 10 fraction bits
    stats = StepStats()
    stats.exponents[key] = 2
    rule.observe(stats)
    assert rule.predict(key, 8, -3) == 5                  # the previous step's maximum wins
    assert rule.predict(key, 16, None) == 13


def test_autoflex_widens_its_margin_after_saturation():
    rule, key = AutoflexRule(calm=2), ("dense1", "errors")
    for _ in range(4):
        stats = StepStats()
        stats.maxima[key] = 0.75                           # constant maximum: < 2**0
        stats.count(key, saturated=0, underflow=0, count=10)
        rule.observe(stats)
    assert rule.predict(key, 8, None) == 7
    stats = StepStats()
    stats.maxima[key] = 0.75
    stats.count(key, saturated=1, underflow=0, count=10)
    rule.observe(stats)
    assert rule.predict(key, 8, None) == 6                 # one more bit of headroom
    for _ in range(2):                                     # `calm` clean steps take it back
        stats = StepStats()
        stats.maxima[key] = 0.75
        stats.count(key, saturated=0, underflow=0, count=10)
        rule.observe(stats)
    assert rule.predict(key, 8, None) == 7


def hist_stats(layer, exponents, *, underflow=0, saturated=0, count=1000):
    """A check step whose dW histogram holds one gradient per listed exponent, and whose errors
    of ``layer`` had ``underflow`` and ``saturated`` of ``count`` values."""
    stats = StepStats()
    lo = min(exponents)
    counts = [0] * (max(exponents) - lo + 1)
    for e in exponents:
        counts[e - lo] += 1
    for l in LAYERS:
        stats.histograms[(l.name, "updates")] = ([1], 0)   # one exponent: need 1 bit
    stats.histograms[(layer, "updates")] = (counts, lo)
    stats.count((layer, "errors"), saturated=saturated, underflow=underflow, count=count)
    return stats


def test_adaptive_widens_when_the_underflow_passes_the_threshold():
    p = Adaptive(period=1)
    assert set(p.decide(ctx()).widths.values()) == {8}
    p.observe(ctx(step=1), hist_stats("conv2", [-3, -2], underflow=300))  # 0.3: not above
    assert set(p.decide(ctx()).widths.values()) == {8}
    p.observe(ctx(step=2), hist_stats("conv2", [-3, -2], underflow=301))
    w = p.decide(ctx(step=3)).widths
    assert {w[("conv2", r)] for r in ("activations", "weights", "errors", "updates")} == {12}
    assert set(v for k, v in w.items() if k[0] != "conv2") == {8}
    assert p.decide(ctx()).reason_for(("conv2", "errors")).startswith("8->12: need=2 bits")
    assert "underflow=0.301" in p.decide(ctx()).reason_for(("conv2", "errors"))


def test_adaptive_widens_on_saturation_up_to_16_bits():
    p = Adaptive(period=1)
    for step, width in ((1, 12), (2, 16), (3, 16)):
        p.observe(ctx(step=step), hist_stats("dense2", [-3, -2], saturated=11))
        w = p.decide(ctx()).widths
        assert w[("dense2", "weights")] == width
        assert w[("logits", "activations")] == width             # the output follows dense2
    d = p.decide(ctx())
    assert d.reason_for(("logits", "activations")) == d.reason_for(("dense2", "updates"))


def test_a_decision_carries_widths_reasons_and_the_histogram_request_together():
    p = Adaptive(period=2)
    first, later = p.decide(ctx(step=0)), p.decide(ctx(step=4))
    assert (first.histograms, later.histograms, p.decide(ctx(step=3)).histograms) == \
        (False, True, False)
    assert first.reason == "start at 8 bits" and first.reasons == {}
    assert not hasattr(p, "reason")  # no side channel: the decision is the whole answer


def test_adaptive_narrows_after_patience_calm_checks_in_a_row():
    p = Adaptive(period=1, patience=3)
    p.observe(ctx(step=1), hist_stats("conv3", [-3, -2], underflow=400))
    assert p.decide(ctx()).widths[("conv3", "errors")] == 12
    # calm (u < 0.05, need 2 <= 12 - 5), calm, in the band (resets the streak), calm, calm
    for step, underflow in enumerate((40, 40, 100, 40, 40), start=2):
        p.observe(ctx(step=step), hist_stats("conv3", [-3, -2], underflow=underflow))
        assert p.decide(ctx()).widths[("conv3", "errors")] == 12
    p.observe(ctx(step=7), hist_stats("conv3", [-3, -2], underflow=40))
    assert p.decide(ctx()).widths[("conv3", "errors")] == 8
    assert p.decide(ctx()).reason_for(("conv3", "errors")).startswith("12->8")


def test_adaptive_keeps_the_width_while_the_gradients_need_it():
    p = Adaptive(period=1, patience=1)
    p.observe(ctx(step=1), hist_stats("conv4", [-3, -2], underflow=400))
    # 24 gradients, two per exponent -12..-1: the lowest 10% (2.4 of them) reach exponent
    # -11, so need = -1 - (-11) + 1 = 11 bits > 12 - 5: 8 bits would flush them.
    for step in range(2, 5):
        p.observe(ctx(step=step), hist_stats("conv4", list(range(-12, 0)) * 2))
        assert p.decide(ctx()).widths[("conv4", "updates")] == 12


def test_policy_state_round_trips():
    p = Adaptive(period=1)
    p.observe(ctx(step=1), hist_stats("conv2", list(range(-12, 0)), underflow=500))
    assert p.layer_width["conv2"] == 12
    q = Adaptive(period=1)
    q.load_state_dict(p.state_dict())
    assert q.decide(ctx()).widths == p.decide(ctx()).widths and q.state_dict() == p.state_dict()
