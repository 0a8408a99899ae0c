"""VariableLayer: a trainable tensor that ignores the layer's input (TFP's VariableLayer)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from pygen.layers._params import as_event_shape

__all__ = ["VariableLayer"]


class VariableLayer(nn.Module):
    """A layer whose ``forward`` ignores its inputs and returns its trainable tensor.

    The usual way to learn a parameter that does not depend on the input: a noise scale,
    or the parameters of a trainable prior or posterior (in front of a
    :class:`~pygen.layers.DistributionLambda`, as in TensorFlow Probability's
    ``tfp.layers.VariableLayer``). The output has shape ``shape`` whatever the input;
    it carries no batch dimensions (broadcast it, as TFP does).

    Args:
        shape: Shape of the tensor (``[]`` for a scalar).
        initializer: Its initial value: a number (filled in), a tensor of shape ``shape``
            (copied), or a callable ``initializer(shape) -> tensor``.
        activation: Applied to the tensor on every call (e.g. ``softplus`` for a scale);
            ``None`` returns it as it is.
        dtype: The tensor's dtype (default: ``torch.get_default_dtype()``).

    Raises:
        TypeError: If ``shape`` is not an int or a sequence of ints, ``activation`` is
            not callable, or ``initializer`` is none of the accepted kinds.
        ValueError: If ``initializer`` gives a tensor of another shape than ``shape``.

    Example:
        >>> import torch
        >>> from pygen.layers import VariableLayer
        >>> layer = VariableLayer([2], initializer=1.5)
        >>> layer(torch.randn(7, 3))
        Parameter containing:
        tensor([1.5000, 1.5000], requires_grad=True)
        >>> scale = VariableLayer([], activation=torch.nn.functional.softplus)
        >>> round(scale(None).item(), 4)  # softplus(0) = log 2
        0.6931
    """

    def __init__(
        self,
        shape: int | Sequence[int],
        initializer: float | torch.Tensor | Callable[[torch.Size], torch.Tensor] = 0.0,
        activation: Callable[[torch.Tensor], torch.Tensor] | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.shape = as_event_shape(shape, "shape")
        if activation is not None and not callable(activation):
            raise TypeError(
                f"VariableLayer: activation must be callable or None, got "
                f"{type(activation).__name__}"
            )
        self.activation = activation
        dtype = dtype if dtype is not None else torch.get_default_dtype()
        if isinstance(initializer, torch.Tensor):
            value = initializer.detach().clone()
        elif isinstance(initializer, (int, float)) and not isinstance(initializer, bool):
            value = torch.full(self.shape, float(initializer))
        elif callable(initializer):
            value = initializer(self.shape)
            if not isinstance(value, torch.Tensor):
                raise TypeError(
                    f"VariableLayer: initializer(shape) must return a tensor, got "
                    f"{type(value).__name__}"
                )
        else:
            raise TypeError(
                "VariableLayer: initializer must be a number, a tensor or a callable "
                f"initializer(shape) -> tensor, got {type(initializer).__name__}"
            )
        if value.shape != self.shape:
            raise ValueError(
                f"VariableLayer: initializer must give a tensor of shape {list(self.shape)}, "
                f"got shape {list(value.shape)}"
            )
        self.value = nn.Parameter(value.to(dtype))

    def extra_repr(self) -> str:
        return f"shape={list(self.shape)}"

    def forward(self, *inputs: Any) -> torch.Tensor:
        """Return the tensor (``activation`` applied), shape ``shape``; inputs are ignored.

        Args:
            *inputs: Ignored (a layer's input, so the layer fits in ``nn.Sequential``).

        Returns:
            The trainable tensor, or ``activation`` of it.
        """
        return self.value if self.activation is None else self.activation(self.value)
