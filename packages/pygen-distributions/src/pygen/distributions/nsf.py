"""NSF: neural spline flows (rational-quadratic splines) over vectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from torch import nn
from torch.distributions import Distribution

from pygen.distributions._flow_base import Flow
from pygen.distributions._validation import check_count
from pygen.distributions.coupling import RQSplineCouplingTransform
from pygen.distributions.maf import MAF, autoregressive_stack
from pygen.distributions.masked_autoregressive import MaskedRQSplineAutoregressiveTransform
from pygen.distributions.realnvp import coupling_stack

__all__ = ["NSF"]


class NSF(Flow):
    """Neural spline flow (Durkan et al. 2019) over ``[features]`` vectors.

    Autoregressive by default (``coupling=False``): ``num_transforms``
    :class:`MaskedRQSplineAutoregressiveTransform` s with the order reversed between each
    two (RQ-NSF (AR); sampling is sequential, on the fast path). ``coupling=True`` uses
    :class:`RQSplineCouplingTransform` s with alternating halves (RQ-NSF (C); one pass
    each way). Each spline has ``bins`` bins on ``[-bound, bound]`` and is the identity
    outside.

    Args:
        features: Length ``D`` of the vectors.
        num_transforms: Number of spline transforms.
        hidden_sizes: Sizes of each network's hidden layers.
        bins: Number of spline bins.
        bound: Half-width of the splines' interval.
        coupling: Coupling instead of autoregressive transforms.
        condition_size: Length of an optional conditioning vector.
        base: The base distribution (default standard normal), see :class:`Flow`.
        sampling_method: ``"fast"`` or ``"naive"`` (autoregressive sampling only).

    Raises:
        TypeError: If a count is not an int.
        ValueError: If a count or ``bound`` is not positive, or ``features`` is 1 with
            ``coupling=True`` (a coupling needs two parts).

    Example:
        >>> import torch
        >>> from pygen.distributions import NSF
        >>> flow = NSF(2, num_transforms=2, hidden_sizes=[16], bins=4)
        >>> x = flow.sample((3,))
        >>> x.shape, flow.log_prob(x).shape
        (torch.Size([3, 2]), torch.Size([3]))
    """

    def __init__(
        self,
        features: int,
        num_transforms: int = 5,
        hidden_sizes: Sequence[int] = (64, 64),
        *,
        bins: int = 8,
        bound: float = 5.0,
        coupling: bool = False,
        condition_size: int | None = None,
        base: Distribution | nn.Module | None = None,
        sampling_method: Literal["fast", "naive"] = "fast",
    ) -> None:
        features = check_count("features", features, 1)
        if coupling:
            transforms = coupling_stack(
                RQSplineCouplingTransform, features, num_transforms,
                hidden_sizes=hidden_sizes, bins=bins, bound=bound, condition_size=condition_size,
            )  # fmt: skip
        else:
            transforms = autoregressive_stack(
                MaskedRQSplineAutoregressiveTransform, features, num_transforms,
                hidden_sizes=hidden_sizes, bins=bins, bound=bound,
                condition_size=condition_size, sampling_method=sampling_method,
            )  # fmt: skip
        super().__init__(transforms, [features], base=base, condition_size=condition_size)

    set_sampling_method = MAF.set_sampling_method
