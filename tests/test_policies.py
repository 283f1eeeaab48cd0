"""Precision policies: widths per phase, exponent rules, the adaptive rule and its hysteresis."""

import pytest

from golden.engine_fixed import StepStats
from golden.network import LAYERS, tensor_keys
from golden.policies import (POLICIES, Adaptive, AutoflexRule, Context, MaxRule, make_policy)


def ctx(epoch=0, epochs=20, step=0):
    return Context(step=step, epoch=epoch, epochs=epochs, steps_per_epoch=10)


def test_unknown_policy_lists_the_allowed_ones():
    with pytest.raises(ValueError) as info:
        make_policy("fixed-7")
    assert str(info.value) == ("policy must be one of float32, fixed-4, fixed-8, fixed-12, "
                               "fixed-16, two-phase, two-phase-float, adaptive, autoflex, "
                               "not 'fixed-7'")


@pytest.mark.parametrize("name", POLICIES)
def test_every_policy_covers_every_tensor(name):
    w = make_policy(name).widths(ctx())
    assert w is None if name == "float32" else set(w) == set(tensor_keys())


@pytest.mark.parametrize("name,first,second", [("two-phase", 8, 16), ("two-phase-float", 8, None),
                                               ("fixed-12", 12, 12), ("autoflex", 8, 8)])
def test_phases(name, first, second):
    p = make_policy(name)
    for epoch in range(20):
        w = p.widths(ctx(epoch=epoch))
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


def hist_stats(layer, exponents, *, underflow=0, count=1000):
    """A check step whose dW histogram holds one gradient per listed exponent."""
    stats = StepStats()
    lo = min(exponents)
    counts = [0] * (max(exponents) - lo + 1)
    for e in exponents:
        counts[e - lo] += 1
    for l in LAYERS:
        stats.histograms[(l.name, "updates")] = ([1], 0)   # one exponent: need 1 bit
    stats.histograms[(layer, "updates")] = (counts, lo)
    stats.count((layer, "errors"), saturated=0, underflow=underflow, count=count)
    return stats


def test_adaptive_widens_at_once_and_narrows_after_patience():
    p = Adaptive(period=1, patience=3, quantile=0.1)
    assert set(p.widths(ctx()).values()) == {8}
    # 24 gradients, two per exponent -12..-1: the lowest 10% (2.4 of them) reach exponent
    # -11, so need = -1 - (-11) + 1 = 11 bits > 7: widen to the lane multiple >= 12.
    p.observe(ctx(step=1), hist_stats("conv2", list(range(-12, 0)) * 2))
    w = p.widths(ctx(step=2))
    assert w[("conv2", "updates")] == 12 and w[("conv2", "activations")] == 12
    assert w[("conv3", "updates")] == 8
    assert "conv2" in p.reason and "need=11" in p.reason
    for step in range(2):                                  # narrow only after 3 calm checks
        p.observe(ctx(step=3 + step), hist_stats("conv2", [-3, -2]))
        assert p.widths(ctx())[("conv2", "errors")] == 12
    p.observe(ctx(step=5), hist_stats("conv2", [-3, -2]))
    assert p.widths(ctx())[("conv2", "errors")] == 8


def test_adaptive_widens_on_underflow():
    p = Adaptive(period=1)
    p.observe(ctx(step=1), hist_stats("dense1", [-3, -2], underflow=300, count=1000))
    assert p.widths(ctx())[("dense1", "weights")] == 12


def test_policy_state_round_trips():
    p = Adaptive(period=1)
    p.observe(ctx(step=1), hist_stats("conv2", list(range(-12, 0))))
    assert p.layer_width["conv2"] == 12
    q = Adaptive(period=1)
    q.load_state_dict(p.state_dict())
    assert q.widths(ctx()) == p.widths(ctx()) and q.state_dict() == p.state_dict()
