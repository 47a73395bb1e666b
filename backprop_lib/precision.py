r"""Low-precision number formats and dynamic loss scaling, emulated in numpy.

* :func:`to_bfloat16` rounds to bfloat16 (1 sign, 8 exponent, 7 mantissa bits: float32's exponent range,
  :math:`2^{-8}` relative precision) with round-to-nearest-even, as ``torch.Tensor.to(torch.bfloat16)``; numpy has
  no bfloat16, so the float32 bit pattern is rounded to its upper 16 bits.
* :class:`DynamicLossScaler` is the update rule of ``torch.amp.GradScaler`` (Micikevicius et al. 2018): start at
  :math:`S = 2^{16}`; a step whose scaled gradients contain ``inf``/``NaN`` is skipped and :math:`S` halved;
  after ``growth_interval`` good steps in a row :math:`S` doubles.
"""

from __future__ import annotations

import numpy as np

__all__ = ["to_bfloat16", "DynamicLossScaler"]


def to_bfloat16(x) -> np.ndarray:
    """The values of ``x`` rounded to bfloat16 (round to nearest, ties to even), returned as float32."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"x must be a floating-point array, got dtype {x.dtype}")
    with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf, as in a cast
        bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    finite = np.isfinite(x)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    out = np.where(finite, rounded, bits & 0xFFFFFFFF).astype(np.uint32).view(np.float32)
    return out.reshape(x.shape)


class DynamicLossScaler:
    """``torch.amp.GradScaler``'s scale schedule: ``update(found_inf)`` after every step; ``scale`` is S."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000):
        for name, value, ok in (("init_scale", init_scale, init_scale > 0), ("growth_factor", growth_factor,
                                growth_factor > 1), ("backoff_factor", backoff_factor, 0 < backoff_factor < 1)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok or not np.isfinite(value):
                raise ValueError(f"{name} has an invalid value {value!r} (init_scale > 0, growth_factor > 1, "
                                 "0 < backoff_factor < 1)")
        if isinstance(growth_interval, bool) or not isinstance(growth_interval, int) or growth_interval < 1:
            raise ValueError(f"growth_interval must be a positive integer, got {growth_interval!r}")
        self.scale = float(init_scale)
        self.growth_factor, self.backoff_factor = float(growth_factor), float(backoff_factor)
        self.growth_interval = growth_interval
        self.good_steps = 0

    def update(self, found_inf: bool) -> None:
        """After a step: halve S (the step was skipped) or count a good step and grow S after enough of them."""
        if found_inf:
            self.scale *= self.backoff_factor
            self.good_steps = 0
        else:
            self.good_steps += 1
            if self.good_steps == self.growth_interval:
                self.scale *= self.growth_factor
                self.good_steps = 0

    def __repr__(self) -> str:
        return f"DynamicLossScaler(scale={self.scale:g}, good_steps={self.good_steps})"
