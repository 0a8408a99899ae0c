"""Permutations of a vector's entries: fixed bijections with ``log|det J| = 0``."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from pygen.distributions._flow_base import FlowTransform
from pygen.distributions._validation import check_count

__all__ = ["Permutation", "Reverse"]


class Permutation(FlowTransform):
    """``y[..., i] = x[..., permutation[i]]``: reorders the last dim (no parameters).

    Args:
        permutation: A permutation of ``range(features)``.

    Raises:
        ValueError: If ``permutation`` is not a permutation of ``0 .. features - 1``.

    Example:
        >>> import torch
        >>> from pygen.distributions import Permutation
        >>> t = Permutation([2, 0, 1])
        >>> t(torch.tensor([10.0, 20.0, 30.0]))
        tensor([30., 10., 20.])
        >>> t.inv(t(torch.tensor([10.0, 20.0, 30.0])))
        tensor([10., 20., 30.])
    """

    def __init__(self, permutation: Sequence[int] | Tensor) -> None:
        super().__init__(event_dim=1)
        perm = torch.as_tensor(list(map(int, permutation)) if not isinstance(permutation, Tensor)
                               else permutation, dtype=torch.long)  # fmt: skip
        if (
            perm.dim() != 1
            or perm.numel() == 0
            or not torch.equal(perm.sort().values, torch.arange(perm.numel()))
        ):
            raise ValueError(
                f"permutation: expected a permutation of 0 .. n-1, found {perm.tolist()}"
            )
        self.register_buffer("permutation", perm)
        self.register_buffer("inverse_permutation", torch.argsort(perm))

    @property
    def features(self) -> int:
        """Length of the permuted vector."""
        return self.permutation.numel()

    def _check(self, x: Tensor) -> None:
        if x.dim() < 1 or x.shape[-1] != self.features:
            raise ValueError(
                f"x: expected shape [..., {self.features}], found shape {tuple(x.shape)}"
            )

    def _forward_and_ladj(self, x: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        self._check(x)
        return x[..., self.permutation], x.new_zeros(x.shape[:-1])

    def _inverse_and_ladj(self, y: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        self._check(y)
        return y[..., self.inverse_permutation], y.new_zeros(y.shape[:-1])


class Reverse(Permutation):
    """Reverses the last dim (``Permutation(range(features - 1, -1, -1))``).

    Args:
        features: Length of the vector.

    Raises:
        TypeError: If ``features`` is not an int.
        ValueError: If ``features < 1``.

    Example:
        >>> import torch
        >>> from pygen.distributions import Reverse
        >>> Reverse(3)(torch.tensor([1.0, 2.0, 3.0]))
        tensor([3., 2., 1.])
    """

    def __init__(self, features: int) -> None:
        features = check_count("features", features, 1)
        super().__init__(list(range(features - 1, -1, -1)))
