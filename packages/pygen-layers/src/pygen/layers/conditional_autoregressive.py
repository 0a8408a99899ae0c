"""ConditionalAutoregressive layer: a conditioning tensor in, a PixelCNN/MADE distribution out."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Protocol, runtime_checkable

import torch
from torch import nn
from torch.distributions import Distribution, constraints

from pygen.distributions._deprecation import renamed_keyword
from pygen.distributions._validation import check_no_trailing_one
from pygen.layers._params import check_tensor, describe, params_size_method

__all__ = ["ConditionalAutoregressive"]


@runtime_checkable
class _ConditionalModel(Protocol):
    """What the layer needs of a model: the autoregressive contract of pygen.distributions.

    MADE, the PixelCNNs and MAF have it (one base, ``AutoregressiveModel``): the
    generation keywords (``temperature=``, ``method=``, ``generator=``) pass through.
    """

    condition_size: int | None
    event_shape: torch.Size

    def log_prob(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor: ...

    def sample(
        self, sample_shape: Any = (), condition: torch.Tensor | None = None, **kwargs: Any
    ) -> torch.Tensor: ...

    def complete(
        self,
        x: torch.Tensor,
        observed_mask: torch.Tensor,
        sample_shape: Any = (),
        condition: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> torch.Tensor: ...


def _condition_shape(model: nn.Module) -> torch.Size | None:
    """``model.condition_shape`` (PixelCNN: a vector or a map), else ``[condition_size]``."""
    shape = getattr(model, "condition_shape", None)
    if shape is not None:
        return torch.Size(shape)
    size = getattr(model, "condition_size", None)
    return None if size is None else torch.Size([int(size)])


class _ConditionedDistribution(Distribution):
    """A conditional model with its condition bound: ``log_prob(x)`` / ``sample(shape)``."""

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {}
    has_rsample = False

    def __init__(
        self, model: _ConditionalModel, condition: torch.Tensor, condition_ndim: int = 1
    ) -> None:
        self.model = model
        self.condition = condition
        super().__init__(
            batch_shape=condition.shape[: condition.dim() - condition_ndim],
            event_shape=torch.Size(model.event_shape),
            validate_args=False,
        )

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """``model.log_prob(value, condition)``, shaped ``broadcast(value batch, batch_shape)``.

        A value shaped ``[..., *batch_shape, 1, *event_shape]`` is refused (it would score
        every image against every condition), whatever the model checks itself.
        """
        if isinstance(value, torch.Tensor):
            check_no_trailing_one(
                value.shape,
                self.batch_shape,
                self.event_shape,
                owner="ConditionalAutoregressive.log_prob",
                against="the condition has batch shape",
            )
        return self.model.log_prob(value, self.condition)

    def sample(
        self, sample_shape: torch.Size | tuple[int, ...] = (), **kwargs: Any
    ) -> torch.Tensor:
        """``model.sample(sample_shape, condition, **kwargs)``: ``sample_shape + batch + event``.

        ``kwargs`` go to the model (MADE, the PixelCNNs and MAF take ``temperature=``,
        ``method=`` and ``generator=``).
        """
        return self.model.sample(torch.Size(sample_shape), self.condition, **kwargs)

    @renamed_keyword("images", "x")
    def complete(
        self,
        x: torch.Tensor,
        observed_mask: torch.Tensor,
        sample_shape: torch.Size | tuple[int, ...] = (),
        **kwargs: Any,
    ) -> torch.Tensor:
        """``model.complete(x, observed_mask, sample_shape, condition, **kwargs)``.

        Keeps the observed entries of ``x`` and draws the rest given the bound
        condition; see the model's ``complete`` (``temperature=``, ``method=``,
        ``generator=``). The old keyword ``images=`` for ``x`` still works, with a
        DeprecationWarning.
        """
        if isinstance(x, torch.Tensor):
            check_no_trailing_one(
                x.shape,
                self.batch_shape,
                self.event_shape,
                name="x",
                owner="ConditionalAutoregressive.complete",
                against="the condition has batch shape",
            )
        return self.model.complete(
            x, observed_mask, torch.Size(sample_shape), self.condition, **kwargs
        )

    def __repr__(self) -> str:
        return (
            f"ConditionedDistribution(model={type(self.model).__name__}, "
            f"batch_shape={list(self.batch_shape)}, event_shape={list(self.event_shape)})"
        )


class ConditionalAutoregressive(nn.Module):
    """Map a conditioning tensor to a conditional autoregressive distribution over images.

    Wraps a model built with ``condition_size=D``, such as
    :class:`pygen.distributions.PixelCNNBernoulliDistribution`,
    ``PixelCNNQuantizedDistribution``, ``PixelCNNLogisticMixtureDistribution`` or
    :class:`pygen.distributions.MADE` (or a conditional ``MAF``). ``forward(condition)`` returns a
    ``torch.distributions.Distribution`` whose ``log_prob(x)`` is
    ``model.log_prob(x, condition)`` and whose ``sample(shape)`` is
    ``model.sample(shape, condition)``, so a network in front (e.g. ``OneHot(10)`` and a
    ``Linear``) and the model train together with ``LayerTrainer(..., reverse_inputs=True)``.
    It also has ``complete(x, observed_mask, shape)``, the model's completion given
    the bound condition.

    Parameter transform: none; the parameters are the conditions, ``[*batch, D]`` for a
    model built with ``condition_size=D``, or conditioning maps ``[*batch, C_cond, H, W]``
    for a PixelCNN built with ``condition_channels=C_cond`` (e.g. the output of a
    convolutional network in front). ``params_size(model)`` is the number of values in
    one condition (``D``, or ``C_cond * H * W``). The returned distribution has
    ``batch_shape == batch`` and ``event_shape == model.event_shape``.

    Args:
        model: A conditional model (an ``nn.Module`` with ``condition_size``,
            ``event_shape``, ``log_prob(x, condition)``, ``sample(shape, condition)`` and
            ``complete(x, observed_mask, shape, condition)``: the autoregressive contract
            of pygen.distributions); it is registered as a submodule, so its parameters
            train.

    Raises:
        TypeError: If ``model`` is not such an ``nn.Module``.
        ValueError: If ``model`` was built without a condition.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from pygen.distributions import PixelCNNBernoulliDistribution
        >>> from pygen.layers import ConditionalAutoregressive, OneHot
        >>> pixelcnn = PixelCNNBernoulliDistribution(
        ...     [1, 6, 6], hidden_channels=8, num_layers=2, condition_size=10
        ... )
        >>> layer = nn.Sequential(OneHot(10), ConditionalAutoregressive(pixelcnn))
        >>> d = layer(torch.tensor([3, 7]))
        >>> d.batch_shape, d.event_shape
        (torch.Size([2]), torch.Size([1, 6, 6]))
        >>> x = d.sample((4,))
        >>> x.shape, d.log_prob(x).shape
        (torch.Size([4, 2, 1, 6, 6]), torch.Size([4, 2]))
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        if not isinstance(model, nn.Module) or not isinstance(model, _ConditionalModel):
            raise TypeError(
                "model must be an nn.Module with condition_size, event_shape, "
                "log_prob(x, condition), sample(sample_shape, condition) and "
                f"complete(x, observed_mask, sample_shape, condition), got {type(model).__name__}"
            )
        self.model = model
        self.params_size(model)

    @params_size_method
    def params_size(model: nn.Module) -> int:
        """Number of values in one condition: ``condition_size``, or ``C_cond * H * W``.

        Args:
            model: A conditional PixelCNN or MADE.

        Returns:
            The product of the model's condition shape.

        Raises:
            ValueError: If the model takes no condition.
        """
        shape = _condition_shape(model)
        if shape is None:
            raise ValueError(
                f"model must be built with condition_size or condition_channels (a "
                f"conditional model), got {type(model).__name__} with condition_size=None"
            )
        return math.prod(shape)

    def extra_repr(self) -> str:
        return f"condition_shape={list(_condition_shape(self.model) or [])}"

    def forward(self, condition: torch.Tensor) -> Distribution:
        """Bind ``condition`` to the model.

        Args:
            condition: ``[*batch, condition_size]`` conditioning vectors, or
                ``[*batch, C_cond, H, W]`` maps for a map-conditioned PixelCNN.

        Returns:
            The conditional distribution, ``batch_shape == batch``.

        Raises:
            TypeError: If ``condition`` is not a floating-point tensor.
            ValueError: If ``condition`` does not end in the model's condition shape.
        """
        layer = describe(self)
        condition = check_tensor(condition, "condition", layer)
        shape = _condition_shape(self.model)
        n = len(shape)
        if condition.dim() < n or tuple(condition.shape[condition.dim() - n :]) != tuple(shape):
            wanted = ", ".join(str(size) for size in shape)
            raise ValueError(
                f"{layer}: condition must have shape [*batch, {wanted}], "
                f"got {list(condition.shape)}"
            )
        return _ConditionedDistribution(self.model, condition, n)
