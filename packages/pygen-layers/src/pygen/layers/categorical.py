"""Categorical layer: logits in, a categorical distribution over class labels out."""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Categorical as TorchCategorical

from pygen.layers._checked import Categorical as CheckedCategorical
from pygen.layers._params import check_positive_int, check_tensor, describe, params_size_method

__all__ = ["Categorical"]


class Categorical(nn.Module):
    """Turn logits ``[*batch, num_classes]`` into a categorical distribution over labels.

    Parameter transform: none; the last dimension holds the unnormalised log-probabilities
    (``logits``) of the classes ``0 .. num_classes - 1``. ``params_size(num_classes)`` is
    ``num_classes``.

    The returned distribution is a ``torch.distributions.Categorical`` (a subclass of it)
    with ``batch_shape == batch`` and ``event_shape == []``. Its ``log_prob`` refuses a
    label tensor shaped ``batch + [1]`` (e.g. ``[N, 1]`` labels for ``[N]`` examples), which
    would otherwise broadcast silently to ``[N, N]``.

    Args:
        num_classes: If given, the number of classes; logits with another last dimension
            raise ``ValueError``. If ``None`` (the default, as in the original pygen), any
            last dimension is accepted.

    Raises:
        TypeError: If ``num_classes`` is not an int.
        ValueError: If ``num_classes`` is not positive.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from pygen.layers import Categorical
        >>> Categorical.params_size(10)
        10
        >>> model = nn.Sequential(nn.Linear(5, 10), Categorical())
        >>> d = model(torch.randn(4, 5))
        >>> d.batch_shape, d.event_shape
        (torch.Size([4]), torch.Size([]))
        >>> d.log_prob(torch.tensor([0, 3, 9, 1])).shape
        torch.Size([4])
    """

    def __init__(self, num_classes: int | None = None) -> None:
        super().__init__()
        if num_classes is not None:
            check_positive_int(num_classes, "num_classes")
        self.num_classes = num_classes

    @params_size_method
    def params_size(num_classes: int) -> int:
        """Number of parameters (logits) the layer reads: ``num_classes``.

        Args:
            num_classes: Number of classes.

        Returns:
            ``num_classes``.
        """
        return check_positive_int(num_classes, "num_classes")

    def extra_repr(self) -> str:
        return "" if self.num_classes is None else f"num_classes={self.num_classes}"

    def forward(self, logits: torch.Tensor) -> TorchCategorical:
        """Build the categorical distribution.

        Args:
            logits: ``[*batch, num_classes]`` unnormalised log-probabilities.

        Returns:
            A categorical distribution with ``batch_shape == logits.shape[:-1]``.

        Raises:
            TypeError: If ``logits`` is not a floating-point tensor.
            ValueError: If ``logits`` is 0-dimensional or its last dimension is not
                ``num_classes``.
        """
        layer = describe(self)
        logits = check_tensor(logits, "logits", layer)
        if logits.dim() == 0 or (
            self.num_classes is not None and logits.shape[-1] != self.num_classes
        ):
            expected = "num_classes" if self.num_classes is None else str(self.num_classes)
            raise ValueError(
                f"{layer}: logits must have shape [*batch, {expected}], got {list(logits.shape)}"
            )
        return CheckedCategorical(logits=logits)
