"""CategoricalMixtureOfOneHotCategorical layer: a mixture of one-hot categoricals."""

from __future__ import annotations

from pygen.layers._params import check_positive_int, params_size_method
from pygen.layers.mixture_same_family import MixtureSameFamily
from pygen.layers.one_hot_categorical import OneHotCategorical

__all__ = ["CategoricalMixtureOfOneHotCategorical"]


class CategoricalMixtureOfOneHotCategorical(MixtureSameFamily):
    """A mixture of ``num_components`` one-hot categoricals over ``event_size`` categories.

    Parameter transforms: the first ``num_components`` parameters are mixture logits; each
    of the ``num_components`` following blocks of ``event_size`` is one component's
    category logits (as is). ``params_size(event_size, num_components)`` is
    ``num_components * (1 + event_size)``. Parameters are flat, ``[*batch, params_size]``.

    Returns ``torch.distributions.MixtureSameFamily`` of
    ``torch.distributions.OneHotCategorical`` components: ``batch_shape == batch``,
    ``event_shape == [event_size]``; values are one-hot vectors.

    Args:
        event_size: Number of categories.
        num_components: Number of mixture components.

    Raises:
        TypeError: If an argument is not an int.
        ValueError: If an argument is not positive.

    Example:
        >>> import torch
        >>> from pygen.layers import CategoricalMixtureOfOneHotCategorical
        >>> CategoricalMixtureOfOneHotCategorical.params_size(10, 3)
        33
        >>> d = CategoricalMixtureOfOneHotCategorical(10, 3)(torch.randn(4, 33))
        >>> d.batch_shape, d.event_shape
        (torch.Size([4]), torch.Size([10]))
        >>> d.sample().sum(-1)
        tensor([1., 1., 1., 1.])
    """

    def __init__(self, event_size: int, num_components: int) -> None:
        super().__init__(
            num_components, OneHotCategorical(event_size), OneHotCategorical.params_size(event_size)
        )
        self.event_size = event_size

    @params_size_method
    def params_size(event_size: int, num_components: int) -> int:
        """Number of parameters the layer reads: ``num_components * (1 + event_size)``.

        Args:
            event_size: Number of categories.
            num_components: Number of mixture components.

        Returns:
            The size of the flat parameter vector.
        """
        m = check_positive_int(num_components, "num_components")
        return m + m * OneHotCategorical.params_size(event_size)

    def extra_repr(self) -> str:
        return f"event_size={self.event_size}, num_components={self.num_components}"
