"""Predictive summaries over posterior samples: mean and spread, per kind of output.

A network with variational layers draws new weights on every call, so calling it
``num_samples`` times samples the posterior predictive. These helpers do that, without
gradients, and summarise the draws: for regression the predictive mean with its
epistemic (spread of the means over weight draws) and aleatoric (the output
distribution's own spread) standard deviations; for classification the mean class
probabilities with their spread, the predictive entropy and its split into expected
entropy (aleatoric) and mutual information (epistemic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "ClassificationPrediction",
    "RegressionPrediction",
    "predict_classification",
    "predict_regression",
]


def _check_count(owner: str, num_samples: object) -> int:
    if isinstance(num_samples, bool) or not isinstance(num_samples, int):
        raise TypeError(f"{owner}: num_samples must be an int, got {type(num_samples).__name__}")
    if num_samples < 2:
        raise ValueError(f"{owner}: num_samples must be >= 2 (a spread), got {num_samples}")
    return num_samples


@dataclass(frozen=True)
class RegressionPrediction:
    """Mean and spread of a regression network's predictions over posterior samples.

    Each tensor has the shape of one draw's mean (``batch_shape + event_shape``).

    Attributes:
        mean: The predictive mean, the mean over draws of each draw's mean.
        epistemic_stddev: The standard deviation of the draws' means (model
            uncertainty; it grows away from the training data).
        aleatoric_stddev: The root mean of the draws' variances (the noise the output
            distribution models; 0 for a network returning a plain tensor).

    Example:
        >>> import torch
        >>> from pygen.layers import RegressionPrediction
        >>> p = RegressionPrediction(torch.zeros(2), torch.tensor([3.0, 0.0]), torch.ones(2) * 4)
        >>> p.stddev.tolist()
        [5.0, 4.0]
    """

    mean: Tensor
    epistemic_stddev: Tensor
    aleatoric_stddev: Tensor

    @property
    def stddev(self) -> Tensor:
        """The predictive standard deviation, ``sqrt(epistemic^2 + aleatoric^2)``."""
        return torch.sqrt(self.epistemic_stddev**2 + self.aleatoric_stddev**2)


@dataclass(frozen=True)
class ClassificationPrediction:
    """Class probabilities and their uncertainty over posterior samples.

    Attributes:
        probs: Mean class probabilities over draws, ``[*batch, num_classes]``.
        probs_stddev: Their standard deviation over draws, same shape.
        entropy: Entropy of ``probs`` (total predictive uncertainty, nats), ``[*batch]``.
        expected_entropy: Mean over draws of each draw's entropy (aleatoric).
        mutual_information: ``entropy - expected_entropy`` (epistemic, >= 0).

    Example:
        >>> import torch
        >>> from pygen.layers import predict_classification
        >>> model = lambda x: torch.distributions.Categorical(logits=x + torch.randn_like(x))
        >>> p = predict_classification(model, torch.zeros(3, 4), num_samples=50)
        >>> p.probs.shape, p.entropy.shape, bool((p.mutual_information >= 0).all())
        (torch.Size([3, 4]), torch.Size([3]), True)
    """

    probs: Tensor
    probs_stddev: Tensor
    entropy: Tensor
    expected_entropy: Tensor
    mutual_information: Tensor


def _entropy(probs: Tensor) -> Tensor:
    return -(probs * probs.clamp_min(torch.finfo(probs.dtype).tiny).log()).sum(-1)


def predict_regression(model: Any, x: Tensor, num_samples: int = 100) -> RegressionPrediction:
    """Call ``model(x)`` ``num_samples`` times (no gradients) and summarise the draws.

    Args:
        model: Returns a distribution with ``mean`` and ``variance`` (e.g. an
            ``IndependentNormal`` layer's output), or a plain tensor (its mean, with no
            aleatoric part).
        x: The inputs.
        num_samples: Draws of the weights (>= 2).

    Returns:
        A :class:`RegressionPrediction`.

    Raises:
        TypeError: If ``num_samples`` is not an int or the output is neither a tensor
            nor has ``mean`` and ``variance``.
        ValueError: If ``num_samples < 2``.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from pygen.layers import DenseFlipout, IndependentNormal, predict_regression
        >>> model = nn.Sequential(DenseFlipout(1, 2), IndependentNormal(1))
        >>> p = predict_regression(model, torch.linspace(-1, 1, 5)[:, None], num_samples=20)
        >>> p.mean.shape, p.epistemic_stddev.shape, p.aleatoric_stddev.shape
        (torch.Size([5, 1]), torch.Size([5, 1]), torch.Size([5, 1]))
    """
    num_samples = _check_count("predict_regression", num_samples)
    means, variances = [], []
    with torch.no_grad():
        for _ in range(num_samples):
            output = model(x)
            if isinstance(output, Tensor):
                means.append(output)
                variances.append(torch.zeros_like(output))
                continue
            try:
                means.append(output.mean)
                variances.append(output.variance)
            except (AttributeError, NotImplementedError) as error:
                raise TypeError(
                    "predict_regression: the model must return a tensor or a distribution "
                    f"with mean and variance, got {type(output).__name__}"
                ) from error
    mean = torch.stack(means)
    return RegressionPrediction(
        mean=mean.mean(0),
        epistemic_stddev=mean.std(0),
        aleatoric_stddev=torch.stack(variances).mean(0).sqrt(),
    )


def predict_classification(
    model: Any, x: Tensor, num_samples: int = 100
) -> ClassificationPrediction:
    """Call ``model(x)`` ``num_samples`` times (no gradients) and summarise the classes.

    Args:
        model: Returns a distribution with ``probs`` over the last dimension (a
            ``Categorical`` or ``OneHotCategorical``).
        x: The inputs.
        num_samples: Draws of the weights (>= 2).

    Returns:
        A :class:`ClassificationPrediction`.

    Raises:
        TypeError: If ``num_samples`` is not an int or the output has no ``probs``.
        ValueError: If ``num_samples < 2``.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from pygen.layers import Categorical, DenseFlipout, predict_classification
        >>> model = nn.Sequential(DenseFlipout(4, 3), Categorical())
        >>> p = predict_classification(model, torch.randn(6, 4), num_samples=20)
        >>> p.probs.shape, p.mutual_information.shape
        (torch.Size([6, 3]), torch.Size([6]))
    """
    num_samples = _check_count("predict_classification", num_samples)
    draws = []
    with torch.no_grad():
        for _ in range(num_samples):
            output = model(x)
            probs = getattr(output, "probs", None)
            if not isinstance(probs, Tensor):
                raise TypeError(
                    "predict_classification: the model must return a distribution with "
                    f"probs (Categorical, OneHotCategorical), got {type(output).__name__}"
                )
            draws.append(probs)
    probs = torch.stack(draws)
    mean = probs.mean(0)
    entropy = _entropy(mean)
    expected_entropy = _entropy(probs).mean(0)
    return ClassificationPrediction(
        probs=mean,
        probs_stddev=probs.std(0),
        entropy=entropy,
        expected_entropy=expected_entropy,
        mutual_information=(entropy - expected_entropy).clamp_min(0.0),
    )
