"""MultivariateNormalTriL layer: a location and a lower-triangular scale matrix."""

from __future__ import annotations

import torch
from torch import nn

from pygen.layers._checked import MultivariateNormal
from pygen.layers._params import (
    check_last_dim,
    check_positive_int,
    describe,
    params_size_method,
)

__all__ = ["MultivariateNormalTriL"]

_DIAGONAL_SHIFT = 1e-5


class MultivariateNormalTriL(nn.Module):
    """Turn parameters into a multivariate normal with a Cholesky-factor scale.

    Parameter transforms, for ``d = event_size``: the first ``d`` parameters are the
    location (as is); the remaining ``d * (d + 1) / 2`` fill the lower triangle of the
    scale matrix ``L`` row by row (``L[0,0], L[1,0], L[1,1], L[2,0], ...``, the order of
    ``torch.tril_indices``). The diagonal goes through ``softplus(x) + 1e-5`` so that ``L``
    is a valid Cholesky factor (TFP's ``FillScaleTriL`` default shift); entries below the
    diagonal are used as is. The covariance is ``L @ L.T``.
    ``params_size(event_size)`` is ``d + d * (d + 1) / 2``.

    Returns ``torch.distributions.MultivariateNormal(loc, scale_tril=L)``:
    ``batch_shape == batch``, ``event_shape == [event_size]``.

    Args:
        event_size: Dimension ``d`` of the random vector.

    Raises:
        TypeError: If ``event_size`` is not an int.
        ValueError: If ``event_size`` is not positive.

    Example:
        >>> import torch
        >>> from pygen.layers import MultivariateNormalTriL
        >>> MultivariateNormalTriL.params_size(3)
        9
        >>> d = MultivariateNormalTriL(3)(torch.zeros(4, 9))
        >>> d.batch_shape, d.event_shape
        (torch.Size([4]), torch.Size([3]))
        >>> d.scale_tril.shape
        torch.Size([4, 3, 3])
    """

    def __init__(self, event_size: int) -> None:
        super().__init__()
        self.event_size = check_positive_int(event_size, "event_size")
        rows, cols = torch.tril_indices(self.event_size, self.event_size)
        self.register_buffer("_rows", rows, persistent=False)
        self.register_buffer("_cols", cols, persistent=False)

    @params_size_method
    def params_size(event_size: int) -> int:
        """Number of parameters the layer reads: ``d + d * (d + 1) / 2``.

        Args:
            event_size: Dimension ``d`` of the random vector.

        Returns:
            The size of the flat parameter vector.
        """
        d = check_positive_int(event_size, "event_size")
        return d + d * (d + 1) // 2

    def extra_repr(self) -> str:
        return f"event_size={self.event_size}"

    def forward(self, params: torch.Tensor) -> MultivariateNormal:
        """Build the distribution.

        Args:
            params: ``[*batch, d + d * (d + 1) / 2]``: location, then the lower triangle.

        Returns:
            A multivariate normal with ``batch_shape == batch``.

        Raises:
            TypeError: If ``params`` is not a floating-point tensor.
            ValueError: If the last dimension of ``params`` is not ``params_size(d)``.
        """
        d = self.event_size
        params = check_last_dim(params, self.params_size(d), describe(self))
        loc, entries = params[..., :d], params[..., d:]
        rows, cols = self._rows.to(params.device), self._cols.to(params.device)
        on_diagonal = rows == cols
        entries = torch.where(
            on_diagonal, nn.functional.softplus(entries) + _DIAGONAL_SHIFT, entries
        )
        scale_tril = params.new_zeros(*params.shape[:-1], d, d)
        scale_tril[..., rows, cols] = entries
        return MultivariateNormal(loc, scale_tril=scale_tril)
