"""MAF and IAF: flows of masked affine autoregressive transforms over vectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from torch import nn
from torch.distributions import Distribution

from pygen.distributions._flow_base import Flow, FlowTransform, InverseFlowTransform
from pygen.distributions._validation import check_count
from pygen.distributions.masked_autoregressive import (
    MaskedAffineAutoregressiveTransform,
    MaskedAutoregressiveTransform,
)
from pygen.distributions.permutation import Reverse

__all__ = ["IAF", "MAF"]


def autoregressive_stack(
    make: type[MaskedAutoregressiveTransform] | None,
    features: int,
    num_transforms: int,
    **kwargs: object,
) -> list[FlowTransform]:
    """``num_transforms`` transforms with a :class:`Reverse` between each two."""
    num_transforms = check_count("num_transforms", num_transforms, 1)
    transforms: list[FlowTransform] = []
    for k in range(num_transforms):
        if k > 0:
            transforms.append(Reverse(features))
        transforms.append(make(features, seed=k, **kwargs))  # type: ignore[misc]
    return transforms


class MAF(Flow):
    """Masked autoregressive flow (Papamakarios et al. 2017) over ``[features]`` vectors.

    ``num_transforms`` :class:`MaskedAffineAutoregressiveTransform` s with the order
    reversed between each two. ``log_prob`` is one MADE pass per transform; sampling is
    ``features`` sequential passes per transform, on the cached fast path by default.

    Args:
        features: Length ``D`` of the vectors.
        num_transforms: Number of autoregressive transforms.
        hidden_sizes: Sizes of each MADE's hidden layers.
        condition_size: Length of an optional conditioning vector.
        base: The base distribution (default standard normal), see :class:`Flow`.
        sampling_method: ``"fast"`` or ``"naive"`` (the reference) for sampling.

    Raises:
        TypeError: If a count is not an int.
        ValueError: If a count is not positive.

    Example:
        >>> import torch
        >>> from pygen.distributions import MAF
        >>> flow = MAF(3, num_transforms=2, hidden_sizes=[16])
        >>> x = flow.sample((4,), generator=torch.Generator().manual_seed(0))
        >>> x.shape, flow.log_prob(x).shape
        (torch.Size([4, 3]), torch.Size([4]))
    """

    def __init__(
        self,
        features: int,
        num_transforms: int = 5,
        hidden_sizes: Sequence[int] = (64, 64),
        *,
        condition_size: int | None = None,
        base: Distribution | nn.Module | None = None,
        sampling_method: Literal["fast", "naive"] = "fast",
    ) -> None:
        features = check_count("features", features, 1)
        transforms = autoregressive_stack(
            MaskedAffineAutoregressiveTransform, features, num_transforms,
            hidden_sizes=hidden_sizes, condition_size=condition_size,
            sampling_method=sampling_method,
        )  # fmt: skip
        super().__init__(transforms, [features], base=base, condition_size=condition_size)

    def set_sampling_method(self, method: Literal["fast", "naive"]) -> None:
        """Switch every autoregressive transform's sequential direction to ``method``.

        Raises:
            ValueError: If ``method`` is unknown.
        """
        for t in self.modules():
            if isinstance(t, MaskedAutoregressiveTransform):
                t.sampling_method = method


class IAF(Flow):
    """Inverse autoregressive flow (Kingma et al. 2016): MAF's transforms inverted.

    Sampling (and ``rsample``, e.g. a VAE posterior) is one pass per transform;
    ``log_prob`` of an arbitrary ``x`` is ``features`` sequential passes per transform.
    ``IAF.from_maf(maf)`` shares a MAF's weights: the two flows' transforms are then exact
    inverses of each other.

    Args:
        features: Length ``D`` of the vectors.
        num_transforms: Number of autoregressive transforms.
        hidden_sizes: Sizes of each MADE's hidden layers.
        condition_size: Length of an optional conditioning vector.
        base: The base distribution (default standard normal), see :class:`Flow`.
        sampling_method: ``"fast"`` or ``"naive"`` for the sequential direction (scoring).

    Raises:
        TypeError: If a count is not an int.
        ValueError: If a count is not positive.

    Example:
        >>> import torch
        >>> from pygen.distributions import IAF
        >>> flow = IAF(2, num_transforms=2, hidden_sizes=[8])
        >>> x = flow.rsample((5,))
        >>> x.shape, flow.log_prob(x).shape
        (torch.Size([5, 2]), torch.Size([5]))
    """

    def __init__(
        self,
        features: int,
        num_transforms: int = 5,
        hidden_sizes: Sequence[int] = (64, 64),
        *,
        condition_size: int | None = None,
        base: Distribution | nn.Module | None = None,
        sampling_method: Literal["fast", "naive"] = "fast",
    ) -> None:
        features = check_count("features", features, 1)
        inner = autoregressive_stack(
            MaskedAffineAutoregressiveTransform, features, num_transforms,
            hidden_sizes=hidden_sizes, condition_size=condition_size,
            sampling_method=sampling_method,
        )  # fmt: skip
        transforms = [_invert(t) for t in reversed(inner)]
        super().__init__(transforms, [features], base=base, condition_size=condition_size)

    @classmethod
    def from_maf(cls, maf: MAF) -> IAF:
        """An IAF whose transforms are ``maf``'s, inverted and in reverse order (shared).

        ``iaf``'s transform composition is then exactly the inverse of ``maf``'s.

        Raises:
            TypeError: If ``maf`` is not a :class:`MAF`.
        """
        if not isinstance(maf, MAF):
            raise TypeError(f"maf: expected a MAF, found {type(maf).__name__}")
        iaf = cls.__new__(cls)
        Flow.__init__(
            iaf, [_invert(t) for t in reversed(maf.transforms)], maf.event_shape,
            condition_size=maf.condition_size,
        )  # fmt: skip
        return iaf


def _invert(t: FlowTransform) -> FlowTransform:
    return t if isinstance(t, Reverse) else InverseFlowTransform(t)
