"""pygen.distributions: probability distributions that torch.distributions lacks.

Every class here is a ``torch.distributions.Distribution``, so it composes with
``Independent``, ``MixtureSameFamily`` and code written against torch's API, except the
trainable models (the ``PixelCNN*Distribution`` family and ``MADE``), which are
``nn.Module``s with the same ``event_shape``/``batch_shape``/``log_prob``/``sample`` API,
the normalizing flows (``Flow`` and ``MAF``, ``IAF``, ``RealNVP``, ``NSF``, whose
transforms are both modules and ``torch.distributions.Transform`` objects), and the
latent-variable ``VAE``, which has no exact ``log_prob``: it has the bounds
``elbo`` and ``iwae``, and the objectives ``ELBOObjective`` and ``IWAEObjective`` that
train and evaluate it.
"""

from pygen.distributions._flow_base import (
    ConditionedTransform,
    Flow,
    FlowDistribution,
    FlowTransform,
    InverseFlowTransform,
)
from pygen.distributions.constraints import DiscretizedUnitInterval
from pygen.distributions.coupling import (
    AffineCouplingTransform,
    CouplingTransform,
    RQSplineCouplingTransform,
)
from pygen.distributions.discretized_logistic import DiscretizedLogistic
from pygen.distributions.discretized_logistic_mixture import DiscretizedLogisticMixture
from pygen.distributions.elbo_objective import ELBOObjective
from pygen.distributions.iwae_objective import IWAEObjective
from pygen.distributions.logistic import Logistic
from pygen.distributions.made import MADE, made_masks
from pygen.distributions.maf import IAF, MAF
from pygen.distributions.masked_autoregressive import (
    MaskedAffineAutoregressiveTransform,
    MaskedAutoregressiveTransform,
    MaskedRQSplineAutoregressiveTransform,
)
from pygen.distributions.nsf import NSF
from pygen.distributions.permutation import Permutation, Reverse
from pygen.distributions.pixelcnn import (
    PixelCNNBernoulliDistribution,
    PixelCNNLogisticMixtureDistribution,
    PixelCNNQuantizedDistribution,
)
from pygen.distributions.quantized_distribution import QuantizedDistribution
from pygen.distributions.realnvp import RealNVP
from pygen.distributions.vae import VAE, ELBOTerms

__all__ = [
    "IAF",
    "MADE",
    "MAF",
    "NSF",
    "VAE",
    "AffineCouplingTransform",
    "ConditionedTransform",
    "CouplingTransform",
    "DiscretizedLogistic",
    "DiscretizedLogisticMixture",
    "DiscretizedUnitInterval",
    "ELBOObjective",
    "ELBOTerms",
    "Flow",
    "FlowDistribution",
    "FlowTransform",
    "IWAEObjective",
    "InverseFlowTransform",
    "Logistic",
    "MaskedAffineAutoregressiveTransform",
    "MaskedAutoregressiveTransform",
    "MaskedRQSplineAutoregressiveTransform",
    "Permutation",
    "PixelCNNBernoulliDistribution",
    "PixelCNNLogisticMixtureDistribution",
    "PixelCNNQuantizedDistribution",
    "QuantizedDistribution",
    "RQSplineCouplingTransform",
    "RealNVP",
    "Reverse",
    "made_masks",
]
