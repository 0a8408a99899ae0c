"""MAF and IAF: flows of masked affine autoregressive transforms over vectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn
from torch.distributions import Distribution

from pygen.distributions._autoregressive import AutoregressiveModel, SampleMethod
from pygen.distributions._completion import FlatBatch
from pygen.distributions._flow_base import Flow, FlowTransform, InverseFlowTransform
from pygen.distributions._validation import check_count
from pygen.distributions.masked_autoregressive import (
    MaskedAffineAutoregressiveTransform,
    MaskedAutoregressiveTransform,
)
from pygen.distributions.permutation import Permutation, Reverse

__all__ = ["IAF", "MAF"]


def autoregressive_stack(
    make: type[MaskedAutoregressiveTransform] | None,
    features: int,
    num_transforms: int,
    *,
    alternate_order: bool = True,
    **kwargs: object,
) -> list[FlowTransform]:
    """``num_transforms`` transforms with a :class:`Reverse` between each two (if alternating)."""
    num_transforms = check_count("num_transforms", num_transforms, 1)
    if not isinstance(alternate_order, bool):
        raise TypeError(f"alternate_order: expected a bool, found {type(alternate_order).__name__}")
    transforms: list[FlowTransform] = []
    for k in range(num_transforms):
        if k > 0 and alternate_order:
            transforms.append(Reverse(features))
        transforms.append(make(features, seed=k, **kwargs))  # type: ignore[misc]
    return transforms


class MAF(AutoregressiveModel, Flow):
    """Masked autoregressive flow (Papamakarios et al. 2017) over ``[features]`` vectors.

    ``num_transforms`` :class:`MaskedAffineAutoregressiveTransform` s, with the order
    reversed between each two unless ``alternate_order=False``. ``log_prob`` is one MADE
    pass per transform; sampling is ``features`` sequential passes per transform, on the
    cached fast path by default.

    :meth:`sample` and :meth:`complete` are the autoregressive contract shared with MADE
    and the PixelCNNs (``pygen.distributions._autoregressive``); :meth:`rsample` is the
    flow's reparameterised draw (same values as ``sample`` for the same generator).
    ``temperature=T`` multiplies the base noise by ``T`` (Glow's convention; the default
    base only). ``method=None`` uses each transform's ``sampling_method``.

    ``complete(x, observed_mask, ...)`` draws the unobserved dims from the exact
    conditional ``p(rest | observed)``: the observed dims are mapped to their noise
    (one inverse pass), the rest of the noise is drawn, and the flow is run forward. That
    is exact only when the flow is autoregressive in *one* order and the observed dims
    come first in it in every row, so other masks are refused with a ``ValueError``
    naming the order (MADE and the PixelCNNs in-fill such masks approximately; a flow
    cannot). With ``alternate_order=False`` (or ``num_transforms=1``) the order is each
    transform's (natural: dims ``0 .. k-1`` observed); with alternating orders the flow
    is autoregressive in no single order and only fully observed or fully unobserved
    rows are accepted. It needs the default standard-normal base (independent noise).

    Args:
        features: Length ``D`` of the vectors.
        num_transforms: Number of autoregressive transforms.
        hidden_sizes: Sizes of each MADE's hidden layers.
        condition_size: Length of an optional conditioning vector.
        base: The base distribution (default standard normal), see :class:`Flow`.
        sampling_method: ``"fast"`` or ``"naive"`` (the reference) for sampling.
        alternate_order: Reverse the order between each two transforms (the default, a
            better density model) or keep one order (``complete`` is then exact for any
            observed prefix of it).

    Raises:
        TypeError: If a count is not an int or ``alternate_order`` not a bool.
        ValueError: If a count is not positive.

    Example:
        >>> import torch
        >>> from pygen.distributions import MAF
        >>> flow = MAF(3, num_transforms=2, hidden_sizes=[16])
        >>> x = flow.sample((4,), generator=torch.Generator().manual_seed(0))
        >>> x.shape, flow.log_prob(x).shape
        (torch.Size([4, 3]), torch.Size([4]))
        >>> one_order = MAF(3, num_transforms=2, hidden_sizes=[16], alternate_order=False)
        >>> first_two = torch.tensor([True, True, False])
        >>> out = one_order.complete(torch.tensor([0.5, -1.0, 0.0]), first_two, (5,))
        >>> out.shape, out[:, :2].unique(dim=0).tolist()
        (torch.Size([5, 3]), [[0.5, -1.0]])
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
        alternate_order: bool = True,
    ) -> None:
        features = check_count("features", features, 1)
        transforms = autoregressive_stack(
            MaskedAffineAutoregressiveTransform, features, num_transforms,
            hidden_sizes=hidden_sizes, condition_size=condition_size,
            sampling_method=sampling_method, alternate_order=alternate_order,
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

    # ------------------------------------------------- the autoregressive contract
    def _reference_tensor(self) -> Tensor:
        return next(self.parameters())

    def _check_value(self, x: object) -> Tensor:
        return self._check_x(x, None)

    def _default_base(self) -> bool:
        return self.base_module is None and self._base_distribution is None

    def _autoregressive_orders(self) -> tuple[Tensor, Tensor] | None:
        """``(noise_order, data_order)`` if the flow is autoregressive in one order, else None.

        ``x[data_order[k]]`` then depends only on ``z[noise_order[:k + 1]]`` (``z`` the base
        noise): the transforms' orders line up through the permutations between them.
        """
        d = self._event_shape[0]
        perm = torch.arange(d)  # the running permutation: y = w[..., perm]
        noise_order = data_order = None
        for t in self.transforms:
            if isinstance(t, Permutation):
                perm = perm[t.permutation.cpu()]
            elif isinstance(t, MaskedAutoregressiveTransform):
                order = t.order.cpu()
                if data_order is None:
                    noise_order = perm[order]
                elif not torch.equal(perm[order], data_order):
                    return None
                data_order, perm = order, torch.arange(d)
            else:
                return None
        if noise_order is None or data_order is None:
            return None
        return noise_order, torch.argsort(perm)[data_order]

    def _generate_flat(
        self,
        flat: FlatBatch,
        *,
        temperature: float,
        method: SampleMethod | None,
        generator: torch.Generator | None,
    ) -> Tensor:
        if temperature != 1.0 and not self._default_base():
            raise ValueError(
                "temperature: only the default standard-normal base can be tempered; "
                f"found base {type(self.base()).__name__} and temperature {temperature}"
            )
        z = self._base_rsample(torch.Size([flat.count]), generator)
        if temperature != 1.0:
            z = self._base_loc + temperature * (z - self._base_loc)
        if flat.observed is not None and flat.mask is not None:
            known = self._known_noise(flat.mask)
            z = torch.where(known, self._to_noise(flat.observed, flat.condition), z)
        for t in self.transforms:
            c = None if t.condition_size is None else flat.condition
            if isinstance(t, MaskedAutoregressiveTransform):
                z = t.sequential_forward(z, c, method or t.sampling_method)[0]
            else:
                z = t._forward_and_ladj(z, c)[0]
        if flat.observed is not None and flat.mask is not None:
            z = torch.where(flat.mask, flat.observed, z)
        return z

    def _to_noise(self, x: Tensor, condition: Tensor | None) -> Tensor:
        for t in reversed(self.transforms):
            x = t._inverse_and_ladj(x, None if t.condition_size is None else condition)[0]
        return x

    def _known_noise(self, mask: Tensor) -> Tensor:
        """Which noise entries the observed values fix, per row; refuses inexact masks."""
        if not self._default_base():
            raise ValueError(
                "complete: needs the default standard-normal base (independent noise dims); "
                f"found base {type(self.base()).__name__}"
            )
        d = self._event_shape[0]
        counts = mask.sum(-1)
        orders = self._autoregressive_orders()
        if orders is None:
            partial = (counts > 0) & (counts < d)
            if bool(partial.any()):
                row = int(partial.nonzero()[0, 0])
                raise ValueError(
                    "observed_mask: this MAF is autoregressive in no single order (its "
                    "transforms alternate their orders), so it completes only fully observed "
                    "or fully unobserved rows; build it with alternate_order=False (or "
                    f"num_transforms=1) to complete observed prefixes; found row {row} "
                    f"observing dims {mask[row].nonzero().flatten().tolist()} of {d}"
                )
            return (counts == d)[:, None].expand(-1, d)
        noise_order, data_order = (o.to(mask.device) for o in orders)
        prefix = torch.arange(d, device=mask.device) < counts[:, None]
        bad = (mask[:, data_order] != prefix).any(-1)
        if bool(bad.any()):
            row = int(bad.nonzero()[0, 0])
            raise ValueError(
                "observed_mask: MAF.complete is exact only when the observed dims come first "
                f"in the flow's autoregressive order {data_order.tolist()}; found row {row} "
                f"observing dims {mask[row].nonzero().flatten().tolist()} (MADE and the "
                "PixelCNNs in-fill such masks approximately; a flow cannot)"
            )
        known = torch.empty_like(mask)
        known[:, noise_order] = prefix
        return known


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
