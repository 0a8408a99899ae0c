"""The ELBO of a network with variational layers, as a training objective.

A plain callable in the shape ``pygen.train``'s ``objective=`` argument takes (this
package does not import the trainer): ``(model, batch) -> (per-example objective,
metrics)``, with metric names that say what each number is (``elbo`` is a bound, never
``log_prob``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["VariationalObjective"]


def _variational_modules(model: Any) -> Iterator[Any]:
    modules = model.modules() if isinstance(model, nn.Module) else ()
    for module in modules:
        if callable(getattr(module, "kl_divergence", None)) and hasattr(module, "kl_weight"):
            yield module


class VariationalObjective:
    """Maximise ``E_q[log p(y | x, w)] - KL(q || p) / N``; report the ELBO and its terms.

    The ELBO of a Bayesian network over a training set of ``N`` examples is
    ``sum_n E_q[log p(y_n | x_n, w)] - KL(q(w) || p(w))``; divided by ``N`` it is a mean
    over examples, which is what the trainer averages. Called with ``(model, batch)``,
    where ``batch`` is ``(x, y, ...)`` and ``model(x)`` returns a distribution over
    ``y``, it draws the weights once (the model's forward pass), collects the KL of
    every submodule with ``kl_divergence()`` and ``kl_weight`` (the variational layers
    of :mod:`pygen.layers`: no hidden loss is involved) and returns
    ``(objective, metrics)``, each value of shape ``[batch]``:

    - ``objective``: ``log p(y_n | x_n, w) - sum_l kl_weight_l * KL_l / N``, the value
      to maximise (the ELBO's per-example share when every ``kl_weight`` is 1).
    - ``metrics["elbo"]``: ``expected_log_likelihood - kl``, the unweighted ELBO per
      example (a single-draw estimate of a lower bound on ``log p(y | x)``, in nats).
    - ``metrics["expected_log_likelihood"]``: the data term ``log p(y_n | x_n, w)``
      for the drawn ``w`` (an unbiased estimate of ``E_q[log p(y_n | x_n, w)]``).
    - ``metrics["kl"]``: each example's share ``KL / N`` of the unweighted KL.

    The metrics are detached. The target must have exactly the output's
    ``batch_shape + event_shape``: a target ``[N, 1]`` against a distribution of batch
    ``[N]`` (the trailing-1 trap, which would broadcast to ``[N, N]``) is an error.

    Args:
        num_examples: ``N``, the number of training examples (``len(dataset)``).
        kl_samples: Monte Carlo draws for a layer whose KL is not analytic.

    Raises:
        TypeError: If ``num_examples`` or ``kl_samples`` is not an int.
        ValueError: If either is < 1.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from pygen.layers import DenseReparameterization, IndependentNormal
        >>> from pygen.layers import VariationalObjective
        >>> model = nn.Sequential(DenseReparameterization(1, 2), IndependentNormal(1))
        >>> x, y = torch.randn(8, 1), torch.randn(8, 1)
        >>> objective, metrics = VariationalObjective(num_examples=100)(model, (x, y))
        >>> objective.shape, sorted(metrics)
        (torch.Size([8]), ['elbo', 'expected_log_likelihood', 'kl'])
        >>> torch.allclose(metrics["elbo"], metrics["expected_log_likelihood"] - metrics["kl"])
        True
    """

    def __init__(self, num_examples: int, kl_samples: int = 1) -> None:
        for name, value in (("num_examples", num_examples), ("kl_samples", kl_samples)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(
                    f"VariationalObjective: {name} must be an int, got {type(value).__name__}"
                )
            if value < 1:
                raise ValueError(f"VariationalObjective: {name} must be >= 1, got {value}")
        self.num_examples = num_examples
        self.kl_samples = kl_samples

    def __repr__(self) -> str:
        return (
            f"VariationalObjective(num_examples={self.num_examples}, kl_samples={self.kl_samples})"
        )

    def kl(self, model: Any) -> tuple[Tensor, Tensor]:
        """The model's total KL, unweighted and weighted by each layer's ``kl_weight``.

        Args:
            model: A module holding variational layers.

        Returns:
            ``(kl, weighted_kl)``, scalar tensors in nats.

        Raises:
            ValueError: If ``model`` holds no module with ``kl_divergence()``.
        """
        total: Tensor | float = 0.0
        weighted: Tensor | float = 0.0
        found = False
        for module in _variational_modules(model):
            found = True
            kl = module.kl_divergence(self.kl_samples)
            total = total + kl
            weighted = weighted + module.kl_weight * kl
        if not found:
            raise ValueError(
                f"VariationalObjective: the model ({type(model).__name__}) has no variational "
                "layer (a module with kl_divergence() and kl_weight, e.g. DenseFlipout); "
                "train it with the default log_prob objective instead"
            )
        return torch.as_tensor(total), torch.as_tensor(weighted)

    def __call__(self, model: Any, batch: Sequence[Any]) -> tuple[Tensor, dict[str, Tensor]]:
        x, y = batch[0], batch[1]
        output = model(x)
        if not callable(getattr(output, "log_prob", None)):
            raise TypeError(
                "VariationalObjective: the model's output must be a distribution with a "
                f"log_prob method; calling it returned {type(output).__name__}"
            )
        expected = torch.Size(output.batch_shape) + torch.Size(output.event_shape)
        if not isinstance(y, Tensor) or y.shape != expected or len(output.batch_shape) != 1:
            shape = list(y.shape) if isinstance(y, Tensor) else type(y).__name__
            hint = ""
            if isinstance(y, Tensor) and y.shape == (*expected, 1):
                hint = " (a trailing 1: squeeze it, y.squeeze(-1))"
            elif len(output.batch_shape) != 1:
                hint = (
                    " (one distribution per example: move the other batch dimensions into "
                    "the event, e.g. with IndependentNormal or torch.distributions.Independent)"
                )
            raise ValueError(
                "VariationalObjective: the target must have the output's batch_shape + "
                f"event_shape {list(expected)} (batch_shape {list(output.batch_shape)} = "
                f"[batch], event_shape {list(output.event_shape)}), got {shape}{hint}"
            )
        data = output.log_prob(y)
        kl, weighted = self.kl(model)
        share = (kl / self.num_examples).expand(data.shape)
        objective = data - weighted / self.num_examples
        metrics = {
            "elbo": (data - share).detach(),
            "expected_log_likelihood": data.detach(),
            "kl": share.detach(),
        }
        return objective, metrics
