"""The variants of one configuration that the ASIC flows measure side by side: ``tunable`` (the
configuration as given: lane gating and, by default, subword packing), ``gated`` (lane gating
without subword packing, when the configuration packs: the design before packing, kept so that
the effect of each change stays visible) and ``fixed`` (``tunable=False``: one max_width
datapath). ``varimac power``, ``varimac timing`` and their reports list them in this order.
"""

VARIANT_ORDER = ("tunable", "gated", "fixed")


def variant_configs(config):
    """``{variant: AccelConfig}``: the configuration as given and its baselines (see the module)."""
    from hw.config import AccelConfig
    if not config.tunable:
        return {"fixed": config}
    variants = {"tunable": config}
    if config.subword:
        variants["gated"] = AccelConfig(**dict(config.params(), subword=False))
    variants["fixed"] = AccelConfig(**dict(config.params(), tunable=False))
    return variants
