r"""What training memory is spent on in a real model: activations of a transformer layer and optimiser state.

Activations of one transformer layer in 16-bit training (Korthikanti et al. 2022, section 4.1; no tensor or
sequence parallelism), for sequence length :math:`s`, micro-batch :math:`b`, hidden size :math:`h` and
:math:`a` attention heads:

.. math:: \text{no recomputation: } s b h \left(34 + 5\frac{a s}{h}\right), \qquad
          \text{selective: } 34\, s b h, \qquad \text{full: } 2\, s b h \text{ bytes.}

The :math:`5 a s^2 b` term is the attention softmax, its dropout mask and the attention-weighted values' input:
quadratic in :math:`s`, memory-heavy but cheap to recompute, so *selective* recomputation drops exactly it
(Chen et al.'s argument: recompute what is cheap, keep what is expensive). *Full* recomputation keeps only
each layer's 16-bit input (:math:`2 s b h`) and re-runs the whole layer.

Optimiser state per parameter (Rajbhandari et al. 2020): mixed-precision Adam keeps 16-bit weights and
gradients (2 + 2 bytes) plus float32 master weights, first and second moments (4 + 4 + 4): 16 bytes.
"""

from __future__ import annotations

__all__ = ["transformer_layer_activation_bytes", "STATE_BYTES_PER_PARAMETER", "training_state_bytes"]

_RECOMPUTE = ("none", "selective", "full")

#: Bytes per parameter: (weights, gradients, optimiser state including master weights).
STATE_BYTES_PER_PARAMETER = {
    "sgd, float32": (4, 4, 0),
    "momentum, float32": (4, 4, 4),
    "adam, float32": (4, 4, 8),
    "adam, mixed precision": (2, 2, 12),
}


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def transformer_layer_activation_bytes(s: int, b: int, h: int, a: int, recompute: str = "none") -> int:
    r"""Bytes of activations one transformer layer keeps for its backward pass (16-bit, Korthikanti et al.).

    ``recompute`` is ``"none"`` (:math:`sbh(34 + 5as/h)`), ``"selective"`` (:math:`34 sbh`) or ``"full"``
    (:math:`2 sbh`). ``h`` must be divisible by ``a``.
    """
    s, b, h, a = (_positive_int(n, v) for n, v in (("s", s), ("b", b), ("h", h), ("a", a)))
    if h % a:
        raise ValueError(f"h must be divisible by the number of heads a, got h={h}, a={a}")
    if recompute not in _RECOMPUTE:
        raise ValueError(f"recompute must be one of {_RECOMPUTE}, got {recompute!r}")
    if recompute == "full":
        return 2 * s * b * h
    per = 34 * s * b * h
    return per if recompute == "selective" else per + 5 * a * s * s * b


def training_state_bytes(P: int, recipe: str = "adam, mixed precision") -> int:
    """Bytes for weights, gradients and optimiser state of ``P`` parameters (see ``STATE_BYTES_PER_PARAMETER``)."""
    _positive_int("P", P)
    if recipe not in STATE_BYTES_PER_PARAMETER:
        raise ValueError(f"recipe must be one of {sorted(STATE_BYTES_PER_PARAMETER)}, got {recipe!r}")
    return P * sum(STATE_BYTES_PER_PARAMETER[recipe])
