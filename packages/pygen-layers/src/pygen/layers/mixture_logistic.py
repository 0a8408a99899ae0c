"""MixtureLogistic layer: a mixture of independent logistic distributions."""

from __future__ import annotations

from collections.abc import Sequence

from pygen.layers._params import as_event_shape, check_positive_int, params_size_method
from pygen.layers.independent_logistic import IndependentLogistic
from pygen.layers.mixture_same_family import MixtureSameFamily

__all__ = ["MixtureLogistic"]


class MixtureLogistic(MixtureSameFamily):
    """A mixture of ``num_components`` independent logistics of shape ``event_shape``.

    Parameter transforms: the first ``num_components`` parameters are mixture logits;
    each of the ``num_components`` following blocks of ``2 * prod(event_shape)`` is one
    component, read as :class:`IndependentLogistic` reads its parameters (locations as
    is, then scales through ``softplus``). ``params_size(num_components, event_shape)`` is
    ``num_components * (1 + 2 * prod(event_shape))``. Parameters are flat,
    ``[*batch, params_size]``.

    Returns ``torch.distributions.MixtureSameFamily`` of ``pygen.distributions.Logistic``
    components: ``batch_shape == batch``, ``event_shape == event_shape``.

    Args:
        num_components: Number of mixture components.
        event_shape: Shape of one event; ``[]`` (the default) for a scalar.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If a size is not positive.

    Example:
        >>> import torch
        >>> from pygen.layers import MixtureLogistic
        >>> MixtureLogistic.params_size(5, event_shape=2)
        25
        >>> d = MixtureLogistic(5, event_shape=2)(torch.randn(4, 25))
        >>> d.batch_shape, d.event_shape
        (torch.Size([4]), torch.Size([2]))
        >>> d.log_prob(torch.zeros(4, 2)).shape
        torch.Size([4])
    """

    def __init__(self, num_components: int, event_shape: int | Sequence[int] = ()) -> None:
        super().__init__(
            num_components,
            IndependentLogistic(event_shape),
            IndependentLogistic.params_size(event_shape),
        )
        self.event_shape = as_event_shape(event_shape)

    @params_size_method
    def params_size(num_components: int, event_shape: int | Sequence[int] = ()) -> int:
        """Number of parameters the layer reads: ``M * (1 + 2 * prod(event_shape))``.

        Args:
            num_components: Number of mixture components ``M``.
            event_shape: Shape of one event.

        Returns:
            The size of the flat parameter vector.
        """
        m = check_positive_int(num_components, "num_components")
        return m + m * IndependentLogistic.params_size(event_shape)

    def extra_repr(self) -> str:
        return f"num_components={self.num_components}, event_shape={list(self.event_shape)}"
