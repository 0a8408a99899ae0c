r"""Coupling transforms (RealNVP; coupling neural spline flows).

A mask splits the vector into a part ``a`` kept as it is and a part ``b`` mapped
elementwise with parameters computed from ``a`` (and the condition) by an MLP:
``y_a = x_a``, ``y_b = g(x_b; \theta(x_a, c))`` (Dinh, Sohl-Dickstein and Bengio 2017).
Both directions take one network pass; the Jacobian is triangular, ``log|det| =
\sum_b \log|g'|``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pygen.distributions._elementwise import Affine, Elementwise, RationalQuadraticSpline
from pygen.distributions._flow_base import FlowTransform
from pygen.distributions._validation import check_count
from pygen.distributions.masked_autoregressive import _check_condition_size, _check_hidden

__all__ = ["AffineCouplingTransform", "CouplingTransform", "RQSplineCouplingTransform"]


class CouplingTransform(FlowTransform):
    """A coupling transform with an elementwise map (base class).

    Args:
        features: Length ``D`` of the vector.
        elementwise: The elementwise monotonic map (private helpers of this package).
        hidden_sizes: Sizes of the MLP's hidden layers.
        mask: ``D`` bools, ``True`` for the entries kept (which parameterise the others);
            by default the first ``D // 2``. At least one entry must be transformed, and,
            without a condition, at least one kept.
        condition_size: Length of an optional conditioning vector (an MLP input).

    Raises:
        TypeError: If ``features`` is not an int.
        ValueError: If a size is not positive, ``mask`` has the wrong length, keeps every
            entry, or keeps none without a condition (``features=1`` without a condition:
            there is nothing to couple).
    """

    def __init__(
        self,
        features: int,
        elementwise: Elementwise,
        hidden_sizes: Sequence[int] = (64, 64),
        *,
        mask: Sequence[bool] | Tensor | None = None,
        condition_size: int | None = None,
    ) -> None:
        super().__init__(event_dim=1, condition_size=_check_condition_size(condition_size))
        self.features = check_count("features", features, 1)
        self.hidden_sizes = _check_hidden(hidden_sizes)
        self.elementwise = elementwise
        keep = torch.arange(self.features) < self.features // 2 if mask is None else mask
        keep = torch.as_tensor(keep, dtype=torch.bool)
        if keep.shape != (self.features,):
            raise ValueError(
                f"mask: expected {self.features} bools, found shape {tuple(keep.shape)}"
            )
        n_keep = int(keep.sum())
        if n_keep == self.features:
            raise ValueError(
                f"mask: keeps all {self.features} entries, so the coupling transforms nothing; "
                "expected at least one False"
            )
        if n_keep == 0 and self.condition_size is None:
            raise ValueError(
                "mask: keeps no entry and there is no condition, so the network has no input "
                "and the coupling is a fixed elementwise map; expected at least one True "
                "(or a condition_size)"
            )
        self.register_buffer("mask", keep)
        index = torch.arange(self.features)
        # [kept, moved] back to the original positions
        self.register_buffer("unshuffle", torch.argsort(torch.cat([index[keep], index[~keep]])))
        self.num_transformed = self.features - n_keep
        sizes = [
            n_keep + (self.condition_size or 0),
            *self.hidden_sizes,
            self.num_transformed * elementwise.num_params,
        ]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        nn.init.zeros_(self.layers[-1].weight)  # start at the identity map
        nn.init.zeros_(self.layers[-1].bias)

    def params(self, kept: Tensor, condition: Tensor | None = None) -> Tensor:
        """The elementwise parameters ``[..., num_transformed, P]`` from the kept part."""
        h = kept if condition is None else torch.cat([kept, condition], dim=-1)
        for k, layer in enumerate(self.layers):
            h = layer(h)
            if k < len(self.layers) - 1:
                h = F.relu(h)
        return h.unflatten(-1, (self.num_transformed, self.elementwise.num_params))

    def _map(self, x: Tensor, condition: Tensor | None, inverse: bool) -> tuple[Tensor, Tensor]:
        if x.dim() < 1 or x.shape[-1] != self.features:
            raise ValueError(
                f"x: expected shape [..., {self.features}], found shape {tuple(x.shape)}"
            )
        kept, moved = x[..., self.mask], x[..., ~self.mask]
        params = self.params(kept, condition)
        g = self.elementwise.inverse if inverse else self.elementwise.forward
        out, ladj = g(moved, params)
        return torch.cat([kept, out], dim=-1)[..., self.unshuffle], ladj.sum(-1)

    def _forward_and_ladj(self, x: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        return self._map(x, condition, inverse=False)

    def _inverse_and_ladj(self, y: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        return self._map(y, condition, inverse=True)


class AffineCouplingTransform(CouplingTransform):
    """RealNVP's affine coupling: ``y_b = x_b exp(s(x_a)) + t(x_a)``, ``y_a = x_a``.

    ``s`` is soft-clamped to ``(-4, 4)``; the network starts at the identity map.

    Args:
        features: Length ``D`` of the vector.
        hidden_sizes: Sizes of the MLP's hidden layers.
        mask: As :class:`CouplingTransform`.
        condition_size: As :class:`CouplingTransform`.

    Raises:
        TypeError: If ``features`` is not an int.
        ValueError: If a size is not positive or ``mask`` is refused (see
            :class:`CouplingTransform`).

    Example:
        >>> import torch
        >>> from pygen.distributions import AffineCouplingTransform
        >>> t = AffineCouplingTransform(4, hidden_sizes=[8])
        >>> x = torch.randn(2, 4)
        >>> torch.equal(t(x)[:, :2], x[:, :2])  # the kept half
        True
    """

    def __init__(
        self,
        features: int,
        hidden_sizes: Sequence[int] = (64, 64),
        *,
        mask: Sequence[bool] | Tensor | None = None,
        condition_size: int | None = None,
    ) -> None:
        super().__init__(features, Affine(), hidden_sizes, mask=mask, condition_size=condition_size)


class RQSplineCouplingTransform(CouplingTransform):
    """Coupling neural spline transform: a rational-quadratic spline on the moved part.

    Args:
        features: Length ``D`` of the vector.
        hidden_sizes: Sizes of the MLP's hidden layers.
        bins: Number of spline bins.
        bound: Half-width of the spline's interval (identity outside).
        mask: As :class:`CouplingTransform`.
        condition_size: As :class:`CouplingTransform`.

    Raises:
        TypeError: If ``features`` or ``bins`` is not an int.
        ValueError: If a size or ``bound`` is not positive or ``mask`` is refused (see
            :class:`CouplingTransform`).

    Example:
        >>> import torch
        >>> from pygen.distributions import RQSplineCouplingTransform
        >>> t = RQSplineCouplingTransform(3, hidden_sizes=[8], bins=4)
        >>> t(torch.zeros(2, 3)).shape
        torch.Size([2, 3])
    """

    def __init__(
        self,
        features: int,
        hidden_sizes: Sequence[int] = (64, 64),
        *,
        bins: int = 8,
        bound: float = 5.0,
        mask: Sequence[bool] | Tensor | None = None,
        condition_size: int | None = None,
    ) -> None:
        bins = check_count("bins", bins, 1)
        if not float(bound) > 0:
            raise ValueError(f"bound: expected a positive number, found {bound}")
        super().__init__(
            features, RationalQuadraticSpline(bins, bound), hidden_sizes, mask=mask,
            condition_size=condition_size,
        )  # fmt: skip
