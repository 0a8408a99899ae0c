"""pygen.distributions: distributions torch lacks, and trainable generative models.

The public names fall into five groups; only the first are
``torch.distributions.Distribution`` subclasses.

- **Distributions** that compose with ``Independent``, ``MixtureSameFamily`` and any code
  written against torch's API: ``Logistic``, ``DiscretizedLogistic``,
  ``DiscretizedLogisticMixture`` and ``QuantizedDistribution``; ``DiscretizedUnitInterval``
  is the constraint (the support) of the discretized ones.
- **Trainable models with an exact likelihood**: ``nn.Module`` objects with the API of a
  distribution (``event_shape``, ``batch_shape``, ``log_prob`` and ``sample``), trained by
  maximising ``log_prob``: the PixelCNN family (``PixelCNNBernoulliDistribution``,
  ``PixelCNNQuantizedDistribution``, ``PixelCNNLogisticMixtureDistribution``), ``MADE``
  (with its masks from ``made_masks``), and the normalizing flows ``MAF``, ``IAF``,
  ``RealNVP`` and ``NSF`` over vectors and ``Glow`` over images, built on ``Flow``; a
  conditional flow called with its condition returns a ``FlowDistribution``.
- **Flow transforms**, trainable bijections that are both an ``nn.Module`` and a
  ``torch.distributions.Transform`` (base class ``FlowTransform``): the couplings
  ``AffineCouplingTransform`` and ``RQSplineCouplingTransform`` (base
  ``CouplingTransform``), the autoregressive ``MaskedAffineAutoregressiveTransform`` and
  ``MaskedRQSplineAutoregressiveTransform`` (base ``MaskedAutoregressiveTransform``),
  ``Permutation`` and ``Reverse``, the image transforms ``ActNorm``, ``InvertibleConv1x1``
  and ``Squeeze``, and the wrappers ``InverseFlowTransform`` and ``ConditionedTransform``.
- **Latent-variable models, which have bounds instead of a** ``log_prob``: the ``VAE``
  (a prior, an encoder layer and a decoder layer; ``elbo`` returns ``ELBOTerms``, ``iwae``
  the importance-weighted bound, ``reconstruct`` its reconstructions) and ``Dequantized``,
  a continuous model such as ``Glow`` made a model of discrete images by
  ``UniformDequantization`` or the learned ``VariationalDequantization`` (modules, not
  distributions).
- **Objectives** for the trainer's ``objective=``, which train and evaluate the bounds
  under their own metric names: ``ELBOObjective`` and ``IWAEObjective`` for a VAE,
  ``DequantizedObjective`` for a dequantized model.
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
