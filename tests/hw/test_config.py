"""AccelConfig: validation, derived sizes, presets and params.json."""

import json

import pytest

from hw.config import PRESETS, AccelConfig


def test_defaults_and_widths():
    c = AccelConfig(rows=4, cols=2)
    assert (c.max_width, c.lane_width, c.lanes) == (16, 4, 4)
    assert c.widths == (4, 8, 12, 16)
    assert AccelConfig(rows=4, cols=2, tunable=False).widths == (16,)
    assert (c.min_shift, c.max_shift) == (-16, 32)


@pytest.mark.parametrize("max_width, max_k", [(4, 1), (8, 7), (8, 8), (16, 4096), (12, 33)])
def test_acc_width_is_exact_and_tight(max_width, max_k):
    c = AccelConfig(rows=1, cols=1, max_width=max_width, lane_width=4, max_k=max_k)
    worst = max_k * (1 << (2 * max_width - 2))       # K products of (most negative)^2
    assert worst <= (1 << (c.acc_width - 1)) - 1      # fits ...
    assert worst > (1 << (c.acc_width - 2)) - 1       # ... and one bit fewer would not


@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(rows=0, cols=1), ValueError, "rows must be in [1, 64], not 0"),
    (dict(rows=1.5, cols=1), TypeError, "rows must be an integer, not 1.5"),
    (dict(rows=1, cols=True), TypeError, "cols must be an integer, not True"),
    (dict(rows=1, cols=1, max_width=10), ValueError,
     "max_width (10) must be a multiple of lane_width (4)"),
    (dict(rows=1, cols=1, lane_width=1), ValueError, "lane_width must be in [2, 32], not 1"),
    (dict(rows=1, cols=1, max_width=36), ValueError, "max_width must be in [4, 32], not 36"),
    (dict(rows=1, cols=1, max_k=0), ValueError, "max_k must be in [1, 16777216], not 0"),
    (dict(rows=1, cols=1, min_shift=5, max_shift=4), ValueError,
     "min_shift (5) must not exceed max_shift (4)"),
    (dict(rows=1, cols=1, tunable=1), TypeError, "tunable must be a bool, not 1"),
    (dict(rows=1, cols=1, mult_tree="wallace"), ValueError,
     "mult_tree must be one of split, folded, fused2d, not 'wallace'"),
    (dict(rows=1, cols=1, valid_gating="yes"), TypeError,
     "valid_gating must be a bool, not 'yes'"),
    (dict(rows=1, cols=1, zero_gating=1), TypeError, "zero_gating must be a bool, not 1"),
    (dict(rows=1, cols=1, clock_gates="pe"), ValueError,
     "clock_gates must be one of lane, register, not 'pe'"),
    (dict(rows=1, cols=1, mult_stages=2), ValueError, "mult_stages must be in [0, 1], not 2"),
    (dict(rows=1, cols=1, mult_stages=1, mult_tree="fused2d"), ValueError,
     "mult_stages must be 0 with mult_tree fused2d"),
])
def test_validation_messages(kwargs, exc, message):
    with pytest.raises(exc) as info:
        AccelConfig(**kwargs)
    assert str(info.value) == message


def test_keyword_only_and_frozen():
    with pytest.raises(TypeError):
        AccelConfig(2, 2)
    c = AccelConfig(rows=2, cols=2)
    with pytest.raises(AttributeError):
        c.rows = 3


def test_presets():
    assert set(PRESETS) >= {"tiny", "default"}
    tiny = AccelConfig.preset("tiny")
    assert tiny.rows != tiny.cols               # catches rows/cols mix-ups
    assert AccelConfig.preset("default").rows * AccelConfig.preset("default").cols >= 64
    assert AccelConfig.preset("tiny", rows=4).rows == 4
    with pytest.raises(ValueError, match="preset must be one of .*, not 'huge'"):
        AccelConfig.preset("huge")


def test_params_json_round_trip(tmp_path):
    c = AccelConfig(rows=3, cols=5, max_width=8, max_k=100, min_shift=-3, tunable=False)
    path = tmp_path / "params.json"
    c.save(path)
    assert AccelConfig.load(path) == c
    data = json.loads(path.read_text())
    assert data["derived"]["acc_width"] == c.acc_width
    assert data["derived"]["widths"] == [8]


def test_variant_fields_and_older_params(tmp_path):
    """params() lists every field; a params dict written before an option had its field (params
    version 2) describes the array built without that option."""
    default = AccelConfig(rows=2, cols=2)
    assert (default.mult_tree, default.valid_gating, default.zero_gating,
            default.clock_gates, default.mult_stages) == ("folded", True, True, "register", 0)
    assert AccelConfig(**default.params()) == default
    assert AccelConfig.from_json(default.to_json()) == default
    plain = AccelConfig(rows=2, cols=2, mult_tree="split", valid_gating=False,
                        zero_gating=False, clock_gates="lane")
    old = {"rows": 2, "cols": 2}     # a version-2 params.json of the same array
    (tmp_path / "params.json").write_text(json.dumps({"version": 2, "config": old}))
    assert AccelConfig.load(tmp_path / "params.json") == plain
    assert AccelConfig.from_params(dict(old, zero_gating=True)) == \
        AccelConfig(**dict(plain.params(), zero_gating=True))
    with pytest.raises(ValueError, match="version 1 is not 2 or 3"):
        AccelConfig.from_json(json.dumps({"version": 1, "config": old}))


@pytest.mark.parametrize("text, message", [
    ("[]", "not a varimac params.json"),
    ('{"version": 9, "config": {}}', "params.json version 9 is not 2 or 3"),
    ('{"version": 3, "config": {"rows": 1, "cols": 1, "colour": 2}}',
     "params.json: unknown field(s) colour"),
])
def test_bad_params_json(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        AccelConfig.from_json(text)


@pytest.mark.parametrize("flags, tunable, subword, zero_gating", [
    ([], True, True, True), (["--no-subword"], True, False, True),
    (["--fixed-width"], False, False, True), (["--no-zero-gating"], True, True, False),
])
def test_config_flags(flags, tunable, subword, zero_gating):
    import argparse

    from flows.cli.config_args import add_config_arguments, config_from_args
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, default_preset="small")
    c = config_from_args(parser.parse_args(flags + ["--rows", "2"]))
    assert (c.rows, c.cols, c.tunable, c.subword, c.zero_gating) == \
        (2, 4, tunable, subword, zero_gating)


def test_variant_flags_round_trip():
    import argparse
    import shlex

    from flows.cli.config_args import add_config_arguments, config_from_args
    from sim.verify import config_flags
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, default_preset="small")
    for c in (AccelConfig.preset("tiny", zero_gating=False, clock_gates="lane"),
              AccelConfig.preset("small", mult_tree="split", valid_gating=False),
              AccelConfig.preset("tiny", mult_stages=1), AccelConfig.preset("tiny"),
              AccelConfig.preset("tiny", tunable=False)):
        assert config_from_args(parser.parse_args(shlex.split(config_flags(c)))) == c


@pytest.mark.parametrize("kwargs, packs", [
    # (Wa, Wb): (P, G, pad). The 16-bit presets: 4-bit jobs pack 4 k per beat, 8-bit 2, wider 1,
    # mixed widths by the wider; a packed sum lies (P-1)·G bits below a plain product.
    (dict(max_width=16), {(4, 4): (4, 4, 12), (8, 8): (2, 8, 8), (4, 8): (2, 8, 12),
                          (12, 12): (1, 16, 8), (16, 4): (1, 16, 12)}),
    (dict(max_width=12), {(4, 4): (3, 4, 8), (8, 8): (1, 12, 8), (8, 4): (1, 12, 12)}),
    (dict(max_width=16, subword=False), {(4, 4): (1, 16, 24)}),
    (dict(max_width=16, tunable=False), {(16, 16): (1, 16, 0)}),
    # The 2-D decomposed multiplier: (16/G)² k per beat, the sum at 2^(32 - 2G - log2 P).
    (dict(max_width=16, mult_tree="fused2d"),
     {(4, 4): (16, 4, 20), (8, 8): (4, 8, 14), (4, 8): (4, 8, 18), (12, 12): (1, 16, 8),
      (16, 4): (1, 16, 12)}),
    (dict(max_width=12, mult_tree="fused2d"), {(4, 4): (9, 4, 12), (8, 8): (1, 12, 8)}),
    (dict(max_width=16, mult_tree="fused2d", subword=False), {(4, 4): (1, 16, 24)}),
])
def test_pack_and_pad(kwargs, packs):
    c = AccelConfig(rows=1, cols=1, **kwargs)
    for (wa, wb), (count, group, pad) in packs.items():
        assert c.pack(wa, wb) == (count, group)
        assert c.pad(wa, wb) == pad


@pytest.mark.parametrize("kwargs, word", [
    (dict(), 16), (dict(mult_tree="folded"), 16), (dict(mult_tree="fused2d"), 64),
    (dict(mult_tree="fused2d", max_width=12), 36), (dict(mult_tree="fused2d", lane_width=8), 32),
    (dict(mult_tree="fused2d", subword=False), 16), (dict(mult_tree="fused2d", tunable=False), 16),
])
def test_operand_word(kwargs, word):
    """The operand beat: max_width bits, or P·G of the widest packed beat with the fused
    multiplier (64 bits for 16 four-bit fields)."""
    c = AccelConfig(rows=1, cols=1, **kwargs)
    assert (c.word_width, c.word_lanes) == (word, word // c.lane_width)
