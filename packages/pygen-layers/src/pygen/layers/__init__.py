"""pygen.layers: TensorFlow-Probability-style distribution layers for PyTorch.

Each layer is an ``nn.Module`` whose ``forward(tensor)`` returns a distribution, so a
network followed by a layer is a conditional distribution ``p(y | x)``. Every
distribution layer has a ``params_size(...)`` static method that says how many numbers it
reads from the last dimension, to size the network in front of it.

Per-element (``Independent*``) layers also read channel-first parameters: a convolution's
``[*batch, k * C, H, W]`` output feeds a layer with ``event_shape=[C, H, W]`` directly.
A parameter tensor of any other shape raises ``ValueError`` naming the expected and
actual shapes.

The variational (Bayesian) layers (``DenseVariational``, ``DenseReparameterization``,
``DenseFlipout``, ``DenseLocalReparameterization``, ``Conv2dReparameterization``,
``Conv2dFlipout``) hold a posterior and a prior over their weights and draw new weights
on every call; :class:`VariationalObjective` trains them by the ELBO, and
``predict_regression`` / ``predict_classification`` summarise their predictive spread.
"""

from pygen.layers.categorical import Categorical
from pygen.layers.categorical_mixture_of_one_hot_categorical import (
    CategoricalMixtureOfOneHotCategorical,
)
from pygen.layers.classifier_net import ClassifierNet
from pygen.layers.conditional_autoregressive import ConditionalAutoregressive
from pygen.layers.conditional_flow import ConditionalFlow
from pygen.layers.conv2d_flipout import Conv2dFlipout
from pygen.layers.conv2d_reparameterization import Conv2dReparameterization
from pygen.layers.dense_flipout import DenseFlipout
from pygen.layers.dense_local_reparameterization import DenseLocalReparameterization
from pygen.layers.dense_reparameterization import DenseReparameterization
from pygen.layers.dense_variational import DenseVariational
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
from pygen.layers.mean_field_normal import MeanFieldNormal
from pygen.layers.mixture_logistic import MixtureLogistic
from pygen.layers.mixture_normal import MixtureNormal
from pygen.layers.mixture_same_family import MixtureSameFamily
from pygen.layers.multivariate_normal_tril import MultivariateNormalTriL
from pygen.layers.one_hot import OneHot
from pygen.layers.one_hot_categorical import OneHotCategorical
from pygen.layers.predictive import (
    ClassificationPrediction,
    RegressionPrediction,
    predict_classification,
    predict_regression,
)
from pygen.layers.standard_normal_prior import StandardNormalPrior
from pygen.layers.variable_layer import VariableLayer
from pygen.layers.variational_objective import VariationalObjective

__all__ = [
    "Categorical",
    "CategoricalMixtureOfOneHotCategorical",
    "ClassificationPrediction",
    "ClassifierNet",
    "ConditionalAutoregressive",
    "ConditionalFlow",
    "Conv2dFlipout",
    "Conv2dReparameterization",
    "DenseFlipout",
    "DenseLocalReparameterization",
    "DenseReparameterization",
    "DenseVariational",
    "DistributionLambda",
    "IndependentBernoulli",
    "IndependentCategorical",
    "IndependentDiscretizedLogisticMixture",
    "IndependentLogistic",
    "IndependentNormal",
    "IndependentPoisson",
    "IndependentQuantizedDistribution",
    "MeanFieldNormal",
    "MixtureLogistic",
    "MixtureNormal",
    "MixtureSameFamily",
    "MultivariateNormalTriL",
    "OneHot",
    "OneHotCategorical",
    "RegressionPrediction",
    "StandardNormalPrior",
    "VariableLayer",
    "VariationalObjective",
    "predict_classification",
    "predict_regression",
]
