"""The policies of the literature: hand-checked schedules, per-role decisions, and a training
smoke run per policy with the same bits on both backends."""

import pytest

from golden.train.gemms import StepStats
from golden.formats import Rounding
from golden.train.network import LAYERS, tensor_keys
from golden.train.exponents import HeadroomRule, MaxRule
from golden.train.registry import check_name, make_policy
from golden.train.policies_lit import Cyclic, Metric, PerRole, Progressive
from tests.support.training import assert_same_bits, params, run, strip_times


def ctx(step=0, epoch=0, epochs=2, steps_per_epoch=10):
    from golden.train.policies import Context
    return Context(step=step, epoch=epoch, epochs=epochs, steps_per_epoch=steps_per_epoch)


def test_cyclic_follows_the_cosine_in_whole_lanes():
    # 2 cycles of 10 steps; (1 - cos(pi t / 10)) for t = 0..9 = 0, .049, .191, .412, .691, 1,
    # 1.309, 1.588, 1.809, 1.951 lanes: rounded 0,0,0,0,1,1,1,2,2,2
    p = Cyclic(lo=8, hi=16, cycles=2, backward=8)
    got = [p.decide(ctx(step=t)).widths[("conv2", "weights")] for t in range(20)]
    assert got == [8, 8, 8, 8, 12, 12, 12, 16, 16, 16] * 2
    w = p.decide(ctx(step=7)).widths
    assert {w[k] for k in tensor_keys() if k[1] in ("errors", "updates")} == {8}
    assert w[("logits", "activations")] == 16


def test_progressive_only_widens():
    p = Progressive()
    got = [set(p.decide(ctx(epoch=e, epochs=20)).widths.values()) for e in range(20)]
    assert got == [{8}] * 10 + [{12}] * 6 + [{16}] * 4
    with pytest.raises(ValueError, match="never narrow"):
        Progressive(stages=((0, 12), (0.5, 8)))


def test_per_role_widths_and_rounding():
    p = PerRole(forward=8, backward=12)
    w = p.decide(ctx()).widths
    assert w[("conv1", "activations")] == w[("dense2", "weights")] == 8
    assert w[("conv3", "errors")] == w[("conv3", "updates")] == 12
    assert p.rounding["backward_data"] == Rounding.STOCHASTIC
    assert p.rounding["forward"] == Rounding.NEAREST_EVEN


def test_wide_ends():
    w = make_policy("wide-ends").decide(ctx()).widths
    assert {w[("conv1", r)] for r in ("activations", "weights", "errors", "updates")} == {16}
    assert w[("dense2", "updates")] == w[("logits", "activations")] == 16
    assert {w[(l.name, "weights")] for l in LAYERS[1:-1]} == {8}


def test_widths_must_be_lanes_of_the_array():
    with pytest.raises(ValueError, match="hi must be a multiple of 4 from 4 to 16, not 20"):
        Cyclic(hi=20)
    with pytest.raises(ValueError, match="forward must be a multiple of 4 from 4 to 16, not 6"):
        PerRole(forward=6)


def role_stats(counts):
    """One check step: {(layer, role): (saturated, underflow, count)}."""
    stats = StepStats()
    for key, (sat, unf, n) in counts.items():
        stats.count(key, saturated=sat, underflow=unf, count=n)
    return stats


def test_metric_sees_weight_gradient_saturation_apart_from_errors():
    # conv1's weight gradients saturate 1.2% (10 of 864) while conv2's errors (4.2 M values)
    # are clean: pooled that would be 2.4e-6, here conv1/updates widens alone.
    p = Metric(period=1)
    p.observe(ctx(step=1), role_stats({("conv1", "updates"): (10, 0, 864),
                                       ("conv2", "errors"): (0, 0, 4_194_304)}))
    w = p.decide(ctx(step=2)).widths
    assert w[("conv1", "updates")] == 12
    assert w[("conv2", "errors")] == 8 and w[("conv1", "activations")] == 8
    assert p.decide(ctx()).reason_for(("conv1", "updates")).startswith("8->12: underflow=0.000, saturation=1.16e-02")


def test_metric_narrows_after_patience_and_round_trips():
    p = Metric(period=1, patience=2)
    key = ("dense1", "errors")
    p.observe(ctx(step=1), role_stats({key: (0, 400, 1000)}))
    assert p.decide(ctx()).widths[key] == 12
    p.observe(ctx(step=2), role_stats({key: (0, 10, 1000)}))
    assert p.decide(ctx()).widths[key] == 12
    q = Metric(period=1, patience=2)
    q.load_state_dict(p.state_dict())
    for policy in (p, q):
        policy.observe(ctx(step=3), role_stats({key: (0, 10, 1000)}))
        assert policy.decide(ctx()).widths[key] == 8
    assert p.state_dict() == q.state_dict()


def test_headroom_rule_keeps_a_bit_above_the_recent_peak():
    rule, plain, key = HeadroomRule(window=2, margin=1), MaxRule(), ("conv1", "updates")
    assert rule.predict(key, 8, -3) == 8 - 1 + 3 - 1
    for e in (2, 4, 1):
        stats = StepStats()
        stats.exponents[key] = e
        rule.observe(stats)
        plain.observe(stats)
    assert plain.predict(key, 8, None) == 8 - 1 - 1
    assert rule.predict(key, 8, None) == 8 - 1 - 4 - 1      # max of the last 2 (4, 1), + 1


def test_headroom_names():
    assert make_policy("fixed-8+headroom").exponents.name == "headroom"
    assert check_name("metric+headroom") == "metric+headroom"
    with pytest.raises(ValueError, match="not 'float32\\+headroom'"):
        check_name("float32+headroom")


# Factories: each run needs its own policy state. progressive's one-epoch run is fixed-8's.
SMOKE = [("cyclic", lambda: Cyclic(cycles=1)),
         ("per-role", lambda: None), ("wide-ends", lambda: None),
         ("metric", lambda: Metric(period=1, widen_underflow=0.05)),
         ("fixed-8+headroom", lambda: None)]


@pytest.mark.parametrize("name,policy", SMOKE, ids=[s[0] for s in SMOKE])
def test_new_policies_train_with_the_same_bits_on_both_backends(tmp_path, name, policy):
    logs = []
    for backend in ("numpy", "torch"):
        trainer, log = run(tmp_path, backend, policy=name, backend=backend, batch=12,
                           policy_object=policy())
        logs.append((params(trainer), strip_times(log), trainer.policy.state_dict()))
    assert_same_bits(logs[0][0], logs[1][0])
    for log in (logs[0][1], logs[1][1]):
        log.pop("backend"), log["config"].pop("backend", None)
    assert logs[0][1] == logs[1][1] and logs[0][2] == logs[1][2]
    assert logs[0][1]["epochs"][0]["steps"] == 2
    if name == "cyclic":  # the second step widened the forward pass
        assert {d["to"] for d in logs[0][1]["decisions"] if d["step"] == 1} == {12}
