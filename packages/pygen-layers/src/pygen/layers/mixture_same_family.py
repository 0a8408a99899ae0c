"""MixtureSameFamily layer: mixture logits plus one parameter set per component."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.distributions import Distribution
from torch.distributions import MixtureSameFamily as TorchMixtureSameFamily

from pygen.layers._params import (
    check_positive_int,
    describe,
    flat_params_only,
    mixture,
    params_size_method,
    split_mixture_params,
)

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(nn.Module):
    """A mixture of ``num_components`` distributions made by one component layer.

    Parameter transforms: the first ``num_components`` parameters are the mixture logits
    (``weights = softmax(logits)``); the remaining ``num_components * P`` are reshaped to
    ``[*batch, num_components, P]`` and handed to ``component_layer``, which applies its
    own transforms. ``params_size(num_components, P)`` is
    ``num_components + num_components * P``, where ``P`` is the component layer's
    ``params_size``.

    Returns ``torch.distributions.MixtureSameFamily``: ``batch_shape == batch``,
    ``event_shape`` = the component layer's event shape. The component layer must return
    a distribution of batch shape ``batch + [num_components]``.

    Args:
        num_components: Number of mixture components.
        component_layer: A layer (or any callable) mapping ``[*batch, num_components, P]``
            to a distribution; an ``nn.Module`` is registered, so its parameters train.
        component_params_size: ``P``, if known (e.g. ``IndependentNormal.params_size(2)``):
            then a parameter tensor of the wrong size is refused with the exact expected
            size. If ``None``, ``P`` is inferred from the last dimension of ``params``.

    Raises:
        TypeError: If ``num_components`` or ``component_params_size`` is not an int, or
            ``component_layer`` is not callable.
        ValueError: If ``num_components`` or ``component_params_size`` is not positive.

    Example:
        >>> import torch
        >>> from pygen.layers import IndependentNormal, MixtureSameFamily
        >>> size = MixtureSameFamily.params_size(4, IndependentNormal.params_size(2))
        >>> size
        20
        >>> layer = MixtureSameFamily(4, IndependentNormal(2), component_params_size=4)
        >>> d = layer(torch.randn(8, size))
        >>> d.batch_shape, d.event_shape
        (torch.Size([8]), torch.Size([2]))
        >>> d.log_prob(torch.zeros(8, 2)).shape
        torch.Size([8])
    """

    def __init__(
        self,
        num_components: int,
        component_layer: Callable[[torch.Tensor], Distribution],
        component_params_size: int | None = None,
    ) -> None:
        super().__init__()
        self.num_components = check_positive_int(num_components, "num_components")
        if not callable(component_layer):
            raise TypeError(
                f"component_layer must be a layer (a callable returning a distribution), "
                f"got {type(component_layer).__name__}"
            )
        self.component_layer = component_layer
        if component_params_size is not None:
            check_positive_int(component_params_size, "component_params_size")
        self.component_params_size = component_params_size

    @params_size_method
    def params_size(num_components: int, component_params_size: int) -> int:
        """Number of parameters the layer reads: ``M + M * component_params_size``.

        Args:
            num_components: Number of mixture components ``M``.
            component_params_size: Parameters one component reads (its layer's
                ``params_size``).

        Returns:
            The size of the flat parameter vector.
        """
        m = check_positive_int(num_components, "num_components")
        return m + m * check_positive_int(component_params_size, "component_params_size")

    def extra_repr(self) -> str:
        if self.component_params_size is None:
            return f"num_components={self.num_components}"
        return (
            f"num_components={self.num_components}, "
            f"component_params_size={self.component_params_size}"
        )

    def forward(self, params: torch.Tensor) -> TorchMixtureSameFamily:
        """Build the mixture.

        Args:
            params: ``[*batch, M + M * P]``: mixture logits, then the component parameters.

        Returns:
            The mixture, with ``batch_shape == batch``.

        Raises:
            TypeError: If ``params`` is not a floating-point tensor.
            ValueError: If the last dimension of ``params`` is not ``M + M * P``, or the
                component distribution has the wrong batch shape.
        """
        layer = describe(self)
        logits, components = split_mixture_params(
            params, self.num_components, self.component_params_size, layer
        )
        with flat_params_only():
            component = self.component_layer(components)
        return mixture(logits, component, layer)
