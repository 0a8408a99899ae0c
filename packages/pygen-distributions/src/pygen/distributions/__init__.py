"""pygen.distributions: probability distributions that torch.distributions lacks.

Every class here is a ``torch.distributions.Distribution``, so it composes with
``Independent``, ``MixtureSameFamily`` and code written against torch's API, except the
trainable models (the ``PixelCNN*Distribution`` family and ``MADE``), which are
``nn.Module``s with the same ``event_shape``/``batch_shape``/``log_prob``/``sample`` API,
the normalizing flows (``Flow`` and ``MAF``, ``IAF``, ``RealNVP``, ``NSF``, whose
transforms are both modules and ``torch.distributions.Transform`` objects), and the
latent-variable ``VAE``, which has no exact ``log_prob``: it has the bounds
``elbo`` and ``iwae``, and the objectives ``ELBOObjective`` and ``IWAEObjective`` that
train and evaluate it. ``Glow`` is an exact-likelihood flow over images built from the
image transforms ``ActNorm``, ``InvertibleConv1x1`` and ``Squeeze``; ``Dequantized``
turns it into a model of discrete images with lower bounds on their likelihood
(``UniformDequantization``, ``VariationalDequantization``, ``DequantizedObjective``).
"""

from pygen.distributions._flow_base import (
    ConditionedTransform,
    Flow,
    FlowDistribution,
    FlowTransform,
    InverseFlowTransform,
)
from pygen.distributions.act_norm import ActNorm
from pygen.distributions.constraints import DiscretizedUnitInterval
from pygen.distributions.coupling import (
    AffineCouplingTransform,
    CouplingTransform,
    RQSplineCouplingTransform,
)
from pygen.distributions.dequantized import Dequantized
from pygen.distributions.dequantized_objective import DequantizedObjective
from pygen.distributions.discretized_logistic import DiscretizedLogistic
from pygen.distributions.discretized_logistic_mixture import DiscretizedLogisticMixture
from pygen.distributions.elbo_objective import ELBOObjective
from pygen.distributions.glow import Glow
from pygen.distributions.invertible_conv1x1 import InvertibleConv1x1
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
from pygen.distributions.squeeze import Squeeze
from pygen.distributions.uniform_dequantization import UniformDequantization
from pygen.distributions.vae import VAE, ELBOTerms
from pygen.distributions.variational_dequantization import VariationalDequantization

__all__ = [
    "IAF",
    "MADE",
    "MAF",
    "NSF",
    "VAE",
    "ActNorm",
    "AffineCouplingTransform",
    "ConditionedTransform",
    "CouplingTransform",
    "Dequantized",
    "DequantizedObjective",
    "DiscretizedLogistic",
    "DiscretizedLogisticMixture",
    "DiscretizedUnitInterval",
    "ELBOObjective",
    "ELBOTerms",
    "Flow",
    "FlowDistribution",
    "FlowTransform",
    "Glow",
    "IWAEObjective",
    "InverseFlowTransform",
    "InvertibleConv1x1",
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
    "Squeeze",
    "UniformDequantization",
    "VariationalDequantization",
    "made_masks",
]
