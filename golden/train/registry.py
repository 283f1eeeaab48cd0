"""The one list of precision policies: every name and how to make it (``REGISTRY``), the names in
the order commands list them (``POLICIES``), ``check_name`` and ``make_policy``."""

from .exponents import HeadroomRule
from .policies import FIXED_WIDTHS, Adaptive, Autoflex, Fixed, Float32, TwoPhase
from .policies_lit import LITERATURE

REGISTRY = {"float32": Float32,
            **{f"fixed-{w}": (lambda w=w: Fixed(w)) for w in FIXED_WIDTHS},
            "two-phase": lambda: TwoPhase("two-phase", second=16),
            "two-phase-float": lambda: TwoPhase("two-phase-float", second=None),
            "adaptive": Adaptive, "autoflex": Autoflex, **LITERATURE}
POLICIES = tuple(REGISTRY)
# A fixed-point policy's name + HEADROOM: the same widths, exponents by ``HeadroomRule``.
HEADROOM = "+headroom"
NO_HEADROOM = ("float32", "two-phase-float", "autoflex")


def check_name(name):
    """``name`` when it names a policy: one of ``POLICIES``, or a fixed-point one + HEADROOM."""
    base = name[:-len(HEADROOM)] if isinstance(name, str) and name.endswith(HEADROOM) else name
    if base not in POLICIES or (base != name and base in NO_HEADROOM):
        raise ValueError(f"policy must be one of {', '.join(POLICIES)} (a fixed-point one may "
                         f"end in {HEADROOM}), not {name!r}")
    return name


def make_policy(name):
    """The policy called ``name`` (``check_name``)."""
    check_name(name)
    if name.endswith(HEADROOM):
        policy = make_policy(name[:-len(HEADROOM)])
        policy.name, policy.exponents = name, HeadroomRule()
        return policy
    return REGISTRY[name]()
