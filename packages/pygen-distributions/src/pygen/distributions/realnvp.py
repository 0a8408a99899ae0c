"""RealNVP: a flow of affine coupling transforms over vectors."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Distribution

from pygen.distributions._flow_base import Flow, FlowTransform
from pygen.distributions._validation import check_count
from pygen.distributions.coupling import AffineCouplingTransform, CouplingTransform

__all__ = ["RealNVP"]


def coupling_stack(
    make: type[CouplingTransform], features: int, num_transforms: int, **kwargs: object
) -> list[FlowTransform]:
    """``num_transforms`` couplings whose kept halves alternate (first half, second half).

    Raises:
        ValueError: If ``features < 2``: a coupling keeps some entries to parameterise
            the others, and one entry cannot be split (half the transforms would be the
            identity, the other half maps with parameters that ignore ``x``).
    """
    if features < 2:
        raise ValueError(
            f"features: a coupling flow needs at least 2 features (some kept to "
            f"parameterise the others), found {features}; for 1-D data use MAF, or NSF "
            "without coupling=True"
        )
    num_transforms = check_count("num_transforms", num_transforms, 1)
    first_half = torch.arange(features) < features // 2
    return [
        make(features, mask=first_half if k % 2 == 0 else ~first_half, **kwargs)  # type: ignore[misc]
        for k in range(num_transforms)
    ]


class RealNVP(Flow):
    """RealNVP (Dinh et al. 2017) over ``[features]`` vectors.

    ``num_transforms`` :class:`AffineCouplingTransform` s; the kept half alternates
    between the first ``features // 2`` entries and the rest. Both ``log_prob`` and
    sampling are one network pass per transform.

    Args:
        features: Length ``D`` of the vectors.
        num_transforms: Number of coupling transforms.
        hidden_sizes: Sizes of each coupling MLP's hidden layers.
        condition_size: Length of an optional conditioning vector.
        base: The base distribution (default standard normal), see :class:`Flow`.

    Raises:
        TypeError: If a count is not an int.
        ValueError: If a count is not positive, or ``features`` is 1 (a coupling needs
            two parts; use :class:`MAF` or :class:`NSF` for 1-D data).

    Example:
        >>> import torch
        >>> from pygen.distributions import RealNVP
        >>> flow = RealNVP(4, num_transforms=2, hidden_sizes=[16], condition_size=3)
        >>> c = torch.randn(5, 3)
        >>> x = flow.sample((2,), condition=c)
        >>> x.shape, flow.log_prob(x, condition=c).shape
        (torch.Size([2, 5, 4]), torch.Size([2, 5]))
    """

    def __init__(
        self,
        features: int,
        num_transforms: int = 5,
        hidden_sizes: Sequence[int] = (64, 64),
        *,
        condition_size: int | None = None,
        base: Distribution | nn.Module | None = None,
    ) -> None:
        features = check_count("features", features, 1)
        transforms = coupling_stack(
            AffineCouplingTransform, features, num_transforms, hidden_sizes=hidden_sizes,
            condition_size=condition_size,
        )  # fmt: skip
        super().__init__(transforms, [features], base=base, condition_size=condition_size)
