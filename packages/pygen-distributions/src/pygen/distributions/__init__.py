"""pygen.distributions: probability distributions that torch.distributions lacks.

Every class here is a ``torch.distributions.Distribution``, so it composes with
``Independent``, ``MixtureSameFamily`` and code written against torch's API, except the
trainable models (the ``PixelCNN*Distribution`` family and ``MADE``), which are
``nn.Module``s with the same ``event_shape``/``batch_shape``/``log_prob``/``sample`` API.
"""

from pygen.distributions.constraints import DiscretizedUnitInterval
from pygen.distributions.discretized_logistic import DiscretizedLogistic
from pygen.distributions.discretized_logistic_mixture import DiscretizedLogisticMixture
from pygen.distributions.logistic import Logistic
from pygen.distributions.made import MADE
from pygen.distributions.pixelcnn import (
    PixelCNNBernoulliDistribution,
    PixelCNNLogisticMixtureDistribution,
    PixelCNNQuantizedDistribution,
)
from pygen.distributions.quantized_distribution import QuantizedDistribution

__all__ = [
    "MADE",
    "DiscretizedLogistic",
    "DiscretizedLogisticMixture",
    "DiscretizedUnitInterval",
    "Logistic",
    "PixelCNNBernoulliDistribution",
    "PixelCNNLogisticMixtureDistribution",
    "PixelCNNQuantizedDistribution",
    "QuantizedDistribution",
]
