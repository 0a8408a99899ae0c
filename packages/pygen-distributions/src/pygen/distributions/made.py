r"""MADE: a masked autoencoder as an autoregressive distribution over binary vectors.

MADE (Germain, Gregor, Murray and Larochelle 2015, "MADE: Masked Autoencoder for
Distribution Estimation") turns a multilayer perceptron into an exactly normalised
autoregressive model by masking its weights. Every input gets a *degree* (its position
in an ordering), every hidden unit a degree drawn from ``[min degree below, D - 1]``; a
hidden unit sees the units below it of degree ``<=`` its own, and output ``d`` sees the
last hidden units of degree ``<`` the degree of input ``d``. Output ``d`` is the logit of
``p(x_d = 1 | x_{<d})`` in that ordering, so

.. math:: \log p(x) = \sum_d \log \mathrm{Bernoulli}(x_d \mid \sigma(\mathrm{logit}_d(x))).

Sampling and completion visit the variables in the current ordering. The default
``method="fast"`` keeps the first layer's pre-activation and updates it by one column per
drawn variable (a rank-one update instead of a ``D``-wide product), runs the later hidden
layers, and computes only the one output logit needed; ``method="naive"`` runs the whole
network per variable and is kept as the reference. Both turn the same pre-drawn uniforms
into values, so in float64 they return the same vectors for the same seed.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pygen.distributions._autoregressive import AutoregressiveModel, SampleMethod, draw_noise
from pygen.distributions._completion import FlatBatch
from pygen.distributions._validation import broadcast_condition_batch, check_condition

__all__ = ["MADE", "made_masks"]


def _check_int(name: str, value: object, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an int, found {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, found {value}")
    return int(value)


def _check_sizes(name: str, value: object, *, allow_empty: bool) -> tuple[int, ...]:
    if isinstance(value, numbers.Integral) or not isinstance(value, (Sequence, torch.Size)):
        raise TypeError(f"{name}: expected a sequence of ints, found {value!r}")
    sizes = list(value)
    if (not sizes and not allow_empty) or any(
        not isinstance(s, numbers.Integral) or isinstance(s, bool) or s < 1 for s in sizes
    ):
        raise ValueError(f"{name}: expected a sequence of positive ints, found {sizes}")
    return tuple(int(s) for s in sizes)


def made_masks(
    order: Tensor, hidden_sizes: Sequence[int], generator: torch.Generator | None = None
) -> list[Tensor]:
    """MADE's connectivity masks, one boolean mask per layer, for the given input order.

    Input ``order[k]`` gets degree ``k + 1``; each hidden unit a degree drawn from
    ``[min degree below, D - 1]``; a hidden unit sees the units below it of degree ``<=``
    its own, and output ``d`` sees the last hidden units of degree ``<`` the degree of
    input ``d``. Output ``d`` therefore depends only on the inputs before ``d`` in
    ``order``. This is the one masking scheme of pygen: :class:`MADE` and the masked
    autoregressive flow transforms both use it.

    Args:
        order: A permutation of ``range(D)``.
        hidden_sizes: Sizes of the hidden layers.
        generator: Source of the hidden degrees.

    Returns:
        Masks shaped ``[out_features, in_features]``: ``[H_1, D]``, ..., ``[D, H_last]``
        (``[D, D]`` strictly lower-triangular in ``order`` when there is no hidden layer).

    Example:
        >>> import torch
        >>> [m.shape for m in made_masks(torch.arange(3), [4])]
        [torch.Size([4, 3]), torch.Size([3, 4])]
        >>> made_masks(torch.arange(3), [])[0].int()
        tensor([[0, 0, 0],
                [1, 0, 0],
                [1, 1, 0]], dtype=torch.int32)
    """
    d = order.numel()
    input_degrees = torch.empty(d, dtype=torch.long)
    input_degrees[order] = torch.arange(1, d + 1)  # order[k] is the (k+1)-th variable
    degrees = input_degrees
    masks = []
    for size in hidden_sizes:
        low = int(degrees.min())
        hidden = torch.randint(low, max(low, d - 1) + 1, (size,), generator=generator)
        masks.append(hidden[:, None] >= degrees[None, :])
        degrees = hidden
    masks.append(input_degrees[:, None] > degrees[None, :])
    return masks


class _MaskedLinear(nn.Linear):
    """A ``Linear`` whose weight is multiplied by a 0/1 mask buffer."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features)
        self.register_buffer("mask", torch.ones(out_features, in_features))

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(AutoregressiveModel, nn.Module):
    """MADE over binary vectors of any ``event_shape`` (flattened inside, restored outside).

    ``num_masks > 1`` enables order/connectivity resampling (Germain et al. 2015, section
    3.3): mask set ``m`` is drawn from a generator seeded with ``seed + m``, and
    :meth:`resample_mask` moves to the next one (call it every training step to train the
    ensemble). :meth:`log_prob` uses the current mask set; :meth:`ensemble_log_prob`
    averages the probabilities of all of them (also exactly normalised).

    Args:
        event_shape: Shape of one binary event, e.g. ``[1, 28, 28]`` or ``[10]``.
        hidden_sizes: Sizes of the hidden layers; ``()`` gives a masked linear (logistic
            autoregressive) model.
        num_masks: Number of mask sets (orderings and connectivities) to cycle through.
        natural_ordering: Keep the inputs in their natural order in every mask set (only
            the hidden connectivity is resampled). Otherwise mask set 0 uses the natural
            order too and the others a random permutation.
        condition_size: Length ``D`` of an optional conditioning vector, fed unmasked to the
            first hidden layer and to the output logits.
        seed: Seed of the mask sets.

    :meth:`sample` and :meth:`complete` are the autoregressive contract shared with the
    PixelCNNs and MAF (``pygen.distributions._autoregressive``): they visit the variables
    in the current ordering (``order``), ``temperature=T`` divides every logit by ``T``
    (``T -> 0``: greedy decoding, each variable its most probable value), and a completion
    is exact sampling from ``p(rest | observed)`` when the observed variables are a prefix
    of ``order`` (``order[:k]``) in every vector; for other masks evidence later in the
    ordering is not taken into account. ``sample``'s old positional ``generator`` (third
    argument) still works, with a DeprecationWarning.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If a size is not positive.

    Example:
        >>> import torch
        >>> from pygen.distributions import MADE
        >>> made = MADE([2, 3], hidden_sizes=[16, 16], num_masks=2)
        >>> x = made.sample((4,), generator=torch.Generator().manual_seed(0))
        >>> x.shape, made.log_prob(x).shape
        (torch.Size([4, 2, 3]), torch.Size([4]))
        >>> everything = torch.tensor([[(k >> d) & 1 for d in range(6)] for k in range(64)])
        >>> total = made.log_prob(everything.reshape(64, 2, 3).float()).exp().sum()
        >>> round(total.item(), 4)
        1.0
        >>> made.resample_mask()
        >>> made.mask_index
        1
        >>> first_half = torch.tensor([[True, True, True], [False, False, False]])
        >>> out = made.complete(torch.ones(2, 3), first_half, (4,))
        >>> out.shape, bool((out[:, 0] == 1).all())
        (torch.Size([4, 2, 3]), True)
    """

    def __init__(
        self,
        event_shape: Sequence[int],
        hidden_sizes: Sequence[int] = (500,),
        *,
        num_masks: int = 1,
        natural_ordering: bool = False,
        condition_size: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self._event_shape = torch.Size(_check_sizes("event_shape", event_shape, allow_empty=True))
        self.hidden_sizes = _check_sizes("hidden_sizes", hidden_sizes, allow_empty=True)
        self.num_masks = _check_int("num_masks", num_masks, 1)
        if not isinstance(natural_ordering, bool):
            raise TypeError(
                f"natural_ordering: expected a bool, found {type(natural_ordering).__name__}"
            )
        self.natural_ordering = natural_ordering
        self.seed = _check_int("seed", seed, 0)
        self.condition_size = (
            None if condition_size is None else _check_int("condition_size", condition_size, 1)
        )
        self.num_inputs = math.prod(self._event_shape)
        sizes = [self.num_inputs, *self.hidden_sizes, self.num_inputs]
        self.layers = nn.ModuleList(
            _MaskedLinear(n_in, n_out) for n_in, n_out in itertools.pairwise(sizes)
        )
        # The condition feeds the first hidden layer and, so that the first variable in
        # the ordering depends on it too, the output logits (both unmasked).
        self.condition_hidden = None
        self.condition_output = None
        if self.condition_size is not None:
            if self.hidden_sizes:
                self.condition_hidden = nn.Linear(self.condition_size, self.hidden_sizes[0])
            self.condition_output = nn.Linear(self.condition_size, self.num_inputs)
        self.register_buffer("order", torch.arange(self.num_inputs))
        self.mask_index = 0
        self._set_masks(0)

    @property
    def event_shape(self) -> torch.Size:
        """Shape of one binary event."""
        return self._event_shape

    @property
    def batch_shape(self) -> torch.Size:
        """``torch.Size([])``: one distribution (a condition adds batch dims)."""
        return torch.Size()

    # ------------------------------------------------------------------ masks

    def _set_masks(self, index: int) -> None:
        d = self.num_inputs
        generator = torch.Generator().manual_seed(self.seed + index)
        if self.natural_ordering or index == 0:
            order = torch.arange(d)
        else:
            order = torch.randperm(d, generator=generator)
        for layer, mask in zip(
            self.layers, made_masks(order, self.hidden_sizes, generator), strict=True
        ):
            layer.mask.copy_(mask.to(layer.mask.dtype))
        self.order.copy_(order)
        self.mask_index = index

    def resample_mask(self, index: int | None = None) -> None:
        """Switch to mask set ``index`` (default: the next one, cyclically).

        Args:
            index: Mask set in ``[0, num_masks)``, or ``None`` for the next one.

        Raises:
            ValueError: If ``index`` is out of range.
        """
        if index is None:
            index = (self.mask_index + 1) % self.num_masks
        index = _check_int("index", index, 0)
        if index >= self.num_masks:
            raise ValueError(f"index: expected an int in [0, {self.num_masks}), found {index}")
        self._set_masks(index)

    def get_extra_state(self) -> dict[str, int]:
        """The current mask index (saved in ``state_dict``)."""
        return {"mask_index": self.mask_index}

    def set_extra_state(self, state: dict[str, int]) -> None:
        """Restore the mask index from ``state_dict``."""
        self._set_masks(int(state["mask_index"]))

    # ------------------------------------------------------------- likelihood

    def _check_value(self, x: object) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"x: expected a torch.Tensor, found {type(x).__name__}")
        n = len(self._event_shape)
        if x.dim() < n or tuple(x.shape[x.dim() - n :]) != tuple(self._event_shape):
            raise ValueError(
                f"x: expected a shape ending in event_shape {tuple(self._event_shape)}, "
                f"found shape {tuple(x.shape)}"
            )
        x = x.to(self.layers[0].weight.dtype)
        bad = (x != 0) & (x != 1)
        if bool(bad.any()):
            raise ValueError(
                f"x: expected binary values (0 or 1) for MADE, found {x[bad][0].item()}; "
                "binarize grey-level data first (e.g. x > 0.5)"
            )
        return x

    def _check_condition(self, condition: object) -> Tensor | None:
        """Validate ``condition`` (``[..., condition_size]`` or None), in the model's dtype."""
        return check_condition(condition, self.condition_size, self.layers[0].weight.dtype)

    def logits(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Logits of ``p(x_d = 1 | x_{<d})`` for flat inputs ``[N, D]`` (condition ``[N, C]``)."""
        h = x
        for k, layer in enumerate(self.layers):
            h = layer(h)
            if k < len(self.layers) - 1:
                if k == 0 and self.condition_hidden is not None and condition is not None:
                    h = h + self.condition_hidden(condition)
                h = F.relu(h)
        if self.condition_output is not None and condition is not None:
            h = h + self.condition_output(condition)
        return h

    def _flat_inputs(
        self, x: Tensor, condition: Tensor | None
    ) -> tuple[Tensor, Tensor | None, torch.Size]:
        batch = x.shape[: x.dim() - len(self._event_shape)]
        if condition is not None:
            batch = broadcast_condition_batch(
                x.shape, self._event_shape, condition.shape, condition.shape[-1:]
            )
            condition = condition.expand(*batch, self.condition_size).reshape(
                -1, self.condition_size
            )
        x = x.expand(*batch, *self._event_shape).reshape(-1, self.num_inputs)
        return x, condition, batch

    def log_prob(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Log-likelihood of binary ``x`` under the current mask set.

        Args:
            x: Binary tensor of shape ``[..., *event_shape]``.
            condition: For a model built with ``condition_size = D``: ``[..., D]``
                conditioning vectors broadcasting with the batch dims of ``x``.

        Returns:
            Log-likelihoods in nats, shaped like the broadcast batch dims.

        Raises:
            TypeError: If ``x`` or ``condition`` is not a tensor.
            ValueError: If ``x`` does not end in ``event_shape``, is not binary, or the
                condition is missing, unexpected, of the wrong size or does not broadcast,
                or ``x`` or the condition has a stray 1 that would broadcast ``N`` examples
                against ``N`` conditions (``[N, 1, ...]`` against ``[N, ...]``).
        """
        x = self._check_value(x)
        condition = self._check_condition(condition)
        flat, flat_condition, batch = self._flat_inputs(x, condition)
        logits = self.logits(flat, flat_condition)
        log_p = -F.binary_cross_entropy_with_logits(logits, flat, reduction="none").sum(-1)
        return log_p.reshape(batch)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Same as :meth:`log_prob`."""
        return self.log_prob(x, condition)

    def ensemble_log_prob(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Log of the probability averaged over all ``num_masks`` mask sets.

        This is how Germain et al. (2015) evaluate an order-agnostic MADE. The current
        mask set is restored afterwards.

        Args:
            x: Binary tensor of shape ``[..., *event_shape]``.
            condition: As for :meth:`log_prob`.

        Returns:
            ``log(mean_m p_m(x))``, shaped like the broadcast batch dims.

        Raises:
            TypeError: As for :meth:`log_prob`.
            ValueError: As for :meth:`log_prob`.
        """
        current = self.mask_index
        try:
            per_mask = []
            for index in range(self.num_masks):
                self._set_masks(index)
                per_mask.append(self.log_prob(x, condition))
        finally:
            self._set_masks(current)
        return torch.logsumexp(torch.stack(per_mask), dim=0) - math.log(self.num_masks)

    # ----------------------------------------------------------------- sample
    # sample and complete come from AutoregressiveModel; this is MADE's generation step.

    def _reference_tensor(self) -> Tensor:
        return self.layers[0].weight

    def _generate_flat(
        self,
        flat: FlatBatch,
        *,
        temperature: float,
        method: SampleMethod | None,
        generator: torch.Generator | None,
    ) -> Tensor:
        weight = self.layers[0].weight
        uniforms = draw_noise((flat.count, self.num_inputs), generator, weight)
        x = torch.zeros(flat.count, self.num_inputs, dtype=weight.dtype, device=weight.device)
        flat_mask = None
        if flat.observed is not None and flat.mask is not None:
            flat_mask = flat.mask.reshape(flat.count, self.num_inputs)
            x = torch.where(flat_mask, flat.observed.reshape(flat.count, self.num_inputs), x)
        loop = self._naive_loop if method == "naive" else self._fast_loop
        loop(x, flat_mask, uniforms, flat.condition, temperature)
        return x

    def _todo(self, mask: Tensor | None) -> list[int]:
        """The variables, in ``order``, unobserved in at least one row of the batch."""
        order = self.order.tolist()
        if mask is None:
            return order
        unobserved = (~mask).any(dim=0).tolist()
        return [d for d in order if unobserved[d]]

    @staticmethod
    def _set(
        x: Tensor, mask: Tensor | None, d: int, logit: Tensor, u: Tensor, temperature: float
    ) -> None:
        if temperature != 1.0:
            logit = logit / temperature
        drawn = (u < torch.sigmoid(logit)).to(x.dtype)
        x[:, d] = drawn if mask is None else torch.where(mask[:, d], x[:, d], drawn)

    def _naive_loop(
        self,
        x: Tensor,
        mask: Tensor | None,
        uniforms: Tensor,
        condition: Tensor | None,
        temperature: float,
    ) -> None:
        for d in self._todo(mask):
            self._set(x, mask, d, self.logits(x, condition)[:, d], uniforms[:, d], temperature)

    def _fast_loop(
        self,
        x: Tensor,
        mask: Tensor | None,
        uniforms: Tensor,
        condition: Tensor | None,
        temperature: float,
    ) -> None:
        first, last = self.layers[0], self.layers[-1]
        first_weight = first.weight * first.mask  # [H0, D]
        last_weight = last.weight * last.mask  # [D, H_last]
        pre = F.linear(x, first_weight, first.bias)  # the first layer, kept up to date
        cond_hidden = cond_output = None
        if condition is not None and self.condition_hidden is not None:
            cond_hidden = self.condition_hidden(condition)
        if condition is not None and self.condition_output is not None:
            cond_output = self.condition_output(condition)
        for d in self._todo(mask):
            if len(self.layers) == 1:
                logit = pre[:, d]
            else:
                h = pre if cond_hidden is None else pre + cond_hidden
                h = F.relu(h)
                for layer in self.layers[1:-1]:
                    h = F.relu(layer(h))
                logit = h @ last_weight[d] + last.bias[d]
            if cond_output is not None:
                logit = logit + cond_output[:, d]
            before = x[:, d].clone()
            self._set(x, mask, d, logit, uniforms[:, d], temperature)
            pre = pre + (x[:, d] - before)[:, None] * first_weight[:, d]
