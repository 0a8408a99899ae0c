"""pygen.distributions: probability distributions that torch.distributions lacks.

Every class here is a ``torch.distributions.Distribution``, so it composes with
``Independent``, ``MixtureSameFamily`` and code written against torch's API, except the
trainable models (the ``PixelCNN*Distribution`` family and ``MADE``), which are
``nn.Module``s with the same ``event_shape``/``batch_shape``/``log_prob``/``sample`` API,
and the latent-variable ``VAE``, which has no exact ``log_prob``: it has the bounds
``elbo`` and ``iwae``, and the objectives ``ELBOObjective`` and ``IWAEObjective`` that
train and evaluate it.
"""

from pygen.distributions.constraints import DiscretizedUnitInterval
from pygen.distributions.discretized_logistic import DiscretizedLogistic
from pygen.distributions.discretized_logistic_mixture import DiscretizedLogisticMixture
from pygen.distributions.elbo_objective import ELBOObjective
from pygen.distributions.iwae_objective import IWAEObjective
from pygen.distributions.logistic import Logistic
from pygen.distributions.made import MADE
from pygen.distributions.pixelcnn import (
    PixelCNNBernoulliDistribution,
    PixelCNNLogisticMixtureDistribution,
    PixelCNNQuantizedDistribution,
)
from pygen.distributions.quantized_distribution import QuantizedDistribution
from pygen.distributions.vae import VAE, ELBOTerms

__all__ = [
    "MADE",
    "VAE",
    "DiscretizedLogistic",
    "DiscretizedLogisticMixture",
    "DiscretizedUnitInterval",
    "ELBOObjective",
    "ELBOTerms",
    "IWAEObjective",
    "Logistic",
    "PixelCNNBernoulliDistribution",
    "PixelCNNLogisticMixtureDistribution",
    "PixelCNNQuantizedDistribution",
    "QuantizedDistribution",
]
