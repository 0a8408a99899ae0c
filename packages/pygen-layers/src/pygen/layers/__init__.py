"""pygen.layers: TensorFlow-Probability-style distribution layers for PyTorch.

Each layer is an ``nn.Module`` whose ``forward(tensor)`` returns a distribution, so a
network followed by a layer is a conditional distribution ``p(y | x)``. Every
distribution layer has a ``params_size(...)`` static method that says how many numbers it
reads from the last dimension, to size the network in front of it.

Per-element (``Independent*``) layers also read channel-first parameters: a convolution's
``[*batch, k * C, H, W]`` output feeds a layer with ``event_shape=[C, H, W]`` directly.
A parameter tensor of any other shape raises ``ValueError`` naming the expected and
actual shapes.
"""

from pygen.layers.categorical import Categorical
from pygen.layers.categorical_mixture_of_one_hot_categorical import (
    CategoricalMixtureOfOneHotCategorical,
)
from pygen.layers.classifier_net import ClassifierNet
from pygen.layers.conditional_autoregressive import ConditionalAutoregressive
from pygen.layers.conditional_flow import ConditionalFlow
from pygen.layers.distribution_lambda import DistributionLambda
from pygen.layers.independent_bernoulli import IndependentBernoulli
from pygen.layers.independent_categorical import IndependentCategorical
from pygen.layers.independent_discretized_logistic_mixture import (
    IndependentDiscretizedLogisticMixture,
)
from pygen.layers.independent_logistic import IndependentLogistic
from pygen.layers.independent_normal import IndependentNormal
from pygen.layers.independent_poisson import IndependentPoisson
from pygen.layers.independent_quantized_distribution import IndependentQuantizedDistribution
from pygen.layers.mixture_logistic import MixtureLogistic
from pygen.layers.mixture_normal import MixtureNormal
from pygen.layers.mixture_same_family import MixtureSameFamily
from pygen.layers.multivariate_normal_tril import MultivariateNormalTriL
from pygen.layers.one_hot import OneHot
from pygen.layers.one_hot_categorical import OneHotCategorical

__all__ = [
    "Categorical",
    "CategoricalMixtureOfOneHotCategorical",
    "ClassifierNet",
    "ConditionalAutoregressive",
    "ConditionalFlow",
    "DistributionLambda",
    "IndependentBernoulli",
    "IndependentCategorical",
    "IndependentDiscretizedLogisticMixture",
    "IndependentLogistic",
    "IndependentNormal",
    "IndependentPoisson",
    "IndependentQuantizedDistribution",
    "MixtureLogistic",
    "MixtureNormal",
    "MixtureSameFamily",
    "MultivariateNormalTriL",
    "OneHot",
    "OneHotCategorical",
]
