"""The distribution classes the layers return, each refusing the trailing-1 trap (private).

Each is the ``torch.distributions`` (or ``pygen.distributions``) class of the same name
with :class:`~pygen.layers._params.RefusesTrailingOne` in front, so it *is* that class
(``isinstance`` holds, every attribute is there) and its ``log_prob`` refuses a value
shaped ``[..., *batch_shape, 1, *event_shape]`` against a batch ending in ``N > 1``.
``Independent`` and ``MixtureSameFamily`` get theirs in ``_params``. ``Poisson`` also
keeps its log-rate, so that ``log_prob`` stays finite where ``exp(log_rate)`` overflows.
"""

from __future__ import annotations

import torch
import torch.distributions as td
from torch.distributions.utils import broadcast_all
from torch.types import _size

from pygen.distributions.discretized_logistic_mixture import (
    DiscretizedLogisticMixture as _DiscretizedLogisticMixture,
)
from pygen.distributions.logistic import Logistic as _Logistic
from pygen.distributions.quantized_distribution import (
    QuantizedDistribution as _QuantizedDistribution,
)
from pygen.layers._params import RefusesTrailingOne

__all__ = [
    "Bernoulli",
    "Categorical",
    "DiscretizedLogisticMixture",
    "Logistic",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "Poisson",
    "QuantizedDistribution",
]


class Bernoulli(RefusesTrailingOne, td.Bernoulli):
    """``torch.distributions.Bernoulli`` refusing the trailing-1 trap."""


class Categorical(RefusesTrailingOne, td.Categorical):
    """``torch.distributions.Categorical`` refusing the trailing-1 trap."""


class DiscretizedLogisticMixture(RefusesTrailingOne, _DiscretizedLogisticMixture):
    """``pygen.distributions.DiscretizedLogisticMixture`` refusing the trailing-1 trap."""


class Logistic(RefusesTrailingOne, _Logistic):
    """``pygen.distributions.Logistic`` refusing the trailing-1 trap."""


class MultivariateNormal(RefusesTrailingOne, td.MultivariateNormal):
    """``torch.distributions.MultivariateNormal`` refusing the trailing-1 trap."""


class Normal(RefusesTrailingOne, td.Normal):
    """``torch.distributions.Normal`` refusing the trailing-1 trap."""


class OneHotCategorical(RefusesTrailingOne, td.OneHotCategorical):
    """``torch.distributions.OneHotCategorical`` refusing the trailing-1 trap.

    A value whose last dim is not the number of categories (most often integer class
    labels) is refused with a hint to one-hot encode it.
    """

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        size = self.event_shape[-1]
        if isinstance(value, torch.Tensor) and (value.dim() == 0 or value.shape[-1] != size):
            raise ValueError(
                f"value: expected one-hot vectors of shape [..., {size}], found shape "
                f"{tuple(value.shape)} ({value.dtype}); for integer class labels use "
                f"torch.nn.functional.one_hot(labels, {size}).float(), or the Categorical "
                f"layer, which takes labels"
            )
        return super().log_prob(value)


class QuantizedDistribution(RefusesTrailingOne, _QuantizedDistribution):
    """``pygen.distributions.QuantizedDistribution`` refusing the trailing-1 trap."""


class _LogRatePoisson(td.Poisson):
    """``torch.distributions.Poisson`` built from, and scoring with, the log-rate.

    ``Poisson(exp(log_rate))`` scores ``k log(rate) - rate - log k!``; in float32 a
    log-rate above about 88 makes ``rate`` infinite and that ``inf - inf = NaN``. Here
    ``k * log_rate - exp(log_rate) - log k!`` is computed from the log-rate itself, so it
    goes to its limit ``-inf`` (the value is infinitely unlikely), never NaN.
    """

    def __init__(self, log_rate: torch.Tensor, validate_args: bool | None = None) -> None:
        self.log_rate = log_rate
        super().__init__(rate=log_rate.exp(), validate_args=validate_args)

    def expand(self, batch_shape: _size, _instance: _LogRatePoisson | None = None) -> td.Poisson:
        new = self._get_checked_instance(_LogRatePoisson, _instance)
        new.log_rate = self.log_rate.expand(torch.Size(batch_shape))
        return super().expand(batch_shape, _instance=new)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_rate, value = broadcast_all(self.log_rate, value)
        count_term = torch.where(value == 0, torch.zeros_like(value), value * log_rate)
        return count_term - log_rate.exp() - torch.lgamma(value + 1)


class Poisson(RefusesTrailingOne, _LogRatePoisson):
    """A Poisson of log-rate ``log_rate`` (finite ``log_prob`` for any log-rate) refusing
    the trailing-1 trap."""
