"""OneHot: integer labels in, one-hot float vectors out (a tensor-to-tensor helper)."""

from __future__ import annotations

import torch
from torch import nn

from pygen.layers._params import check_positive_int

__all__ = ["OneHot"]


class OneHot(nn.Module):
    """Encode integer labels ``[*batch]`` as one-hot vectors ``[*batch, num_classes]``.

    Not a distribution layer: it sits in front of a network, e.g. to condition a
    generator on a digit label (``OneHot(10) -> Linear -> IndependentBernoulli``). The
    output has the default floating-point dtype (``torch.get_default_dtype()``) and the
    labels' device.

    Args:
        num_classes: Number of classes (length of each one-hot vector).

    Raises:
        TypeError: If ``num_classes`` is not an int.
        ValueError: If ``num_classes`` is not positive.

    Example:
        >>> import torch
        >>> from pygen.layers import OneHot
        >>> OneHot(4)(torch.tensor([0, 3]))
        tensor([[1., 0., 0., 0.],
                [0., 0., 0., 1.]])
    """

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = check_positive_int(num_classes, "num_classes")

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}"

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        """Encode ``labels``.

        Args:
            labels: Integer tensor of class labels in ``[0, num_classes)``, any shape.

        Returns:
            ``[*labels.shape, num_classes]`` one-hot vectors.

        Raises:
            TypeError: If ``labels`` is not an integer tensor.
            ValueError: If a label is outside ``[0, num_classes)``.
        """
        if not isinstance(labels, torch.Tensor):
            raise TypeError(f"OneHot: labels must be a torch.Tensor, got {type(labels).__name__}")
        if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
            raise TypeError(f"OneHot: labels must be an integer tensor, got dtype {labels.dtype}")
        if labels.numel() > 0:
            low, high = int(labels.min()), int(labels.max())
            if low < 0 or high >= self.num_classes:
                raise ValueError(
                    f"OneHot(num_classes={self.num_classes}): labels must lie in "
                    f"[0, {self.num_classes}), got values in [{low}, {high}]"
                )
        one_hot = nn.functional.one_hot(labels.long(), self.num_classes)
        return one_hot.to(torch.get_default_dtype())
