"""A distribution over [0, 1] cut into equal buckets (pygen's original QuantizedDistribution)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor
from torch.distributions import Categorical, Distribution, constraints
from torch.distributions.utils import lazy_property, logits_to_probs
from torch.types import _size

from pygen.distributions._validation import as_float_tensor, check_count, check_value_shape

__all__ = ["QuantizedDistribution", "discretize"]


def discretize(value: Tensor, num_buckets: int) -> Tensor:
    """Map values in [0, 1] to the centre of their bucket, ``(floor(value * K) + 1/2) / K``.

    The buckets are those of :class:`QuantizedDistribution`: bucket ``k`` is
    ``[k / K, (k + 1) / K)`` and ``1`` belongs to the top bucket; values outside [0, 1]
    go to the end buckets. A ``QuantizedDistribution`` gives the same log-probability to
    ``value`` and ``discretize(value, K)``, and ``add_noise=False`` samples are such
    centres.

    Args:
        value: A floating-point tensor of values in [0, 1].
        num_buckets: ``K``, the number of buckets.

    Returns:
        A tensor of ``value``'s shape and dtype.

    Raises:
        TypeError: If ``value`` is not a floating-point tensor or ``num_buckets`` not an int.
        ValueError: If ``num_buckets < 1``.

    Example:
        >>> import torch
        >>> from pygen.distributions.quantized_distribution import discretize
        >>> discretize(torch.tensor([0.0, 0.3, 0.99, 1.0]), 4)
        tensor([0.1250, 0.3750, 0.8750, 0.8750])
    """
    if not isinstance(value, Tensor):
        raise TypeError(f"value: expected a torch.Tensor, found {type(value).__name__}")
    value = as_float_tensor("value", value)
    k = check_count("num_buckets", num_buckets, 1)
    index = torch.floor(value * k).clamp(0, k - 1)
    return (index + 0.5) / k


class QuantizedDistribution(Distribution):
    r"""A categorical over ``K`` equal buckets of [0, 1], uniform inside each bucket.

    Bucket ``k`` is ``[k / K, (k + 1) / K)``; ``x = 1`` belongs to the top bucket
    ``K - 1``. ``log_prob(x)`` is the log probability *mass* of ``x``'s bucket,
    ``log softmax(logits)[k]`` (as in pygen's original; the log *density* of the
    piecewise-uniform distribution is that plus ``log K``). ``sample()`` draws a bucket
    and then a point uniformly over the whole bucket, or, with ``add_noise=False`` (as in
    the original's later API), returns the bucket's centre (see :func:`discretize`). This
    is not TFP's ``tfd.QuantizedDistribution`` (which quantises a base distribution onto
    integers).

    ``entropy()`` is the entropy of the bucket, ``-sum_k p_k log p_k``, which is the
    expectation of ``-log_prob`` (the differential entropy is that minus ``log K``).
    ``mean`` and ``variance`` are those of the piecewise-uniform distribution; ``mode``
    is the centre of the most probable bucket.

    Args:
        logits: Unnormalised log-probabilities of the buckets, shape
            ``batch_shape + (K,)`` with ``K = num_buckets >= 1``.
        add_noise: ``True`` (the default): a sample is uniform over its bucket;
            ``False``: a sample is its bucket's centre ``(k + 1/2) / K``.
        validate_args: Whether to check parameters and values against their
            constraints (``None`` uses ``torch.distributions``' global default).

    Raises:
        TypeError: If ``logits`` is not a floating-point tensor or ``add_noise`` not a bool.
        ValueError: If ``logits`` has no dims, or, with validation on, contains NaN.

    Example:
        >>> import torch
        >>> from pygen.distributions import QuantizedDistribution
        >>> d = QuantizedDistribution(torch.zeros(2, 8))  # 2 distributions, 8 buckets
        >>> d.batch_shape, d.event_shape, d.num_buckets
        (torch.Size([2]), torch.Size([]), 8)
        >>> d.sample((5,)).shape
        torch.Size([5, 2])
        >>> d.log_prob(torch.tensor([0.0, 1.0]))  # log(1/8): x = 1 is in the top bucket
        tensor([-2.0794, -2.0794])
        >>> d.mean
        tensor([0.5000, 0.5000])
        >>> QuantizedDistribution(torch.tensor([0.0, 9.0, 0.0, 0.0]), add_noise=False).sample()
        tensor(0.3750)
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "logits": constraints.independent(constraints.real, 1)
    }
    support = constraints.unit_interval
    has_rsample = False

    def __init__(
        self, logits: Tensor, add_noise: bool = True, validate_args: bool | None = None
    ) -> None:
        if not isinstance(logits, Tensor):
            raise TypeError(f"logits: expected a torch.Tensor, found {type(logits).__name__}")
        if not logits.is_floating_point():
            raise TypeError(f"logits: expected a floating-point tensor, found dtype {logits.dtype}")
        if logits.dim() < 1:
            raise ValueError(
                f"logits: expected at least one dim (the buckets, last), found shape "
                f"{tuple(logits.shape)}"
            )
        if not isinstance(add_noise, bool):
            raise TypeError(f"add_noise: expected a bool, found {type(add_noise).__name__}")
        self.add_noise = add_noise
        self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        super().__init__(batch_shape=self.logits.shape[:-1], validate_args=validate_args)

    @lazy_property
    def probs(self) -> Tensor:
        """Bucket probabilities, ``softmax(logits)``, shape ``batch_shape + (K,)``."""
        return logits_to_probs(self.logits)

    @property
    def num_buckets(self) -> int:
        """Number of buckets ``K`` (the last dim of ``logits``)."""
        return self.logits.shape[-1]

    def _bucket_centres(self) -> Tensor:
        k = torch.arange(self.num_buckets, dtype=self.logits.dtype, device=self.logits.device)
        return (k + 0.5) / self.num_buckets

    def expand(
        self, batch_shape: _size, _instance: QuantizedDistribution | None = None
    ) -> QuantizedDistribution:
        """Return a new ``QuantizedDistribution`` with logits expanded to ``batch_shape + (K,)``.

        Args:
            batch_shape: The new batch shape.
            _instance: Used by subclasses (``torch.distributions`` convention).

        Returns:
            The expanded distribution (parameters are views, no copy).
        """
        new = self._get_checked_instance(QuantizedDistribution, _instance)
        batch_shape = torch.Size(batch_shape)
        param_shape = (*batch_shape, self.num_buckets)
        new.logits = self.logits.expand(param_shape)
        new.add_noise = self.add_noise
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(param_shape)
        super(QuantizedDistribution, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        """Mean of the piecewise-uniform distribution, ``sum_k p_k (k + 1/2) / K``."""
        return (self.probs * self._bucket_centres()).sum(-1)

    @property
    def variance(self) -> Tensor:
        """Variance of the piecewise-uniform distribution (within- plus between-bucket)."""
        centres = self._bucket_centres()
        second_moment = (self.probs * centres.pow(2)).sum(-1) + 1.0 / (12 * self.num_buckets**2)
        return (second_moment - self.mean.pow(2)).clamp(min=0)

    @property
    def mode(self) -> Tensor:
        """Centre of the most probable bucket (the lowest one on ties)."""
        return (self.logits.argmax(-1).to(self.logits.dtype) + 0.5) / self.num_buckets

    def bucket(self, value: Tensor) -> Tensor:
        """Index of the bucket holding each value (``x = 1`` is in the top bucket).

        Args:
            value: Values in [0, 1] (values outside are clamped to the end buckets).

        Returns:
            A ``torch.long`` tensor of ``value``'s shape.
        """
        index = torch.floor(value * self.num_buckets).clamp(0, self.num_buckets - 1)
        return index.long()

    def sample(self, sample_shape: _size = ()) -> Tensor:
        """Draw a bucket, then a point uniformly over it (its centre if not ``add_noise``).

        Args:
            sample_shape: Leading sample dims.

        Returns:
            A tensor of shape ``sample_shape + batch_shape`` with values in [0, 1).
        """
        sample_shape = torch.Size(sample_shape)
        with torch.no_grad():
            index = Categorical(logits=self.logits, validate_args=False).sample(sample_shape)
            if not self.add_noise:
                return (index.to(self.logits.dtype) + 0.5) / self.num_buckets
            offset = torch.rand(index.shape, dtype=self.logits.dtype, device=self.logits.device)
            value = (index.to(self.logits.dtype) + offset) / self.num_buckets
            # (K - 1 + u) / K can round up to exactly 1 in low precision; 1 is still in the
            # top bucket, so the value stays in the support and in the right bucket.
            return value.clamp(max=1.0)

    def log_prob(self, value: Tensor) -> Tensor:
        """Log probability mass of the bucket holding ``value``.

        Args:
            value: Values in [0, 1] whose trailing dims broadcast with ``batch_shape``.

        Returns:
            The log mass, shaped ``broadcast(value.shape, batch_shape)``.

        Raises:
            TypeError: If ``value`` is not a tensor.
            ValueError: If ``value``'s shape does not broadcast with ``batch_shape``,
                or, with validation on, if a value lies outside [0, 1].
        """
        check_value_shape(value, self.batch_shape, self.event_shape)
        if self._validate_args:
            self._validate_sample(value)
        index = self.bucket(value).unsqueeze(-1)
        index, log_pmf = torch.broadcast_tensors(index, self.logits)
        return log_pmf.gather(-1, index[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        """Entropy of the bucket in nats, ``-sum_k p_k log p_k`` (the mean of ``-log_prob``).

        Returns:
            A tensor of shape ``batch_shape``.
        """
        # A bucket of probability 0 (logit -inf) contributes 0 * finite = 0, not NaN.
        logits = self.logits.clamp(min=torch.finfo(self.logits.dtype).min)
        return -(self.probs * logits).sum(-1)
