"""What the trainer maximises for a batch: an objective, per example, with its metrics.

An objective maps ``(model, batch)`` to a per-example tensor (shape ``[batch]``) to
maximise, and optionally a dict of per-example metric tensors (each ``[batch]``) that are
logged beside it. Training, validation and :func:`pygen.train.evaluate.evaluate` all use
the same objective object, so a batch's value and its shape errors are written once.

* :class:`LogProbObjective`: ``model.log_prob(batch[0])`` (what ``DistributionTrainer``
  maximises), named ``"log_prob"``.
* :class:`LayerLogProbObjective`: ``model(x).log_prob(y)`` (``LayerTrainer``), named
  ``"log_prob"``, with per-example ``"accuracy"`` when the output is categorical.
* :class:`CallableObjective`: any function ``f(model, batch)`` returning the tensor, or
  ``(tensor, {name: tensor})``; named ``"objective"`` unless given a name.

Names follow :mod:`pygen.train.metric_names`: ``"log_prob"`` only for an exact
log-likelihood, ``"elbo"`` / ``"iwae_<k>"`` for bounds; bits per dimension are derived
from those only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch

__all__ = [
    "CallableObjective",
    "LayerLogProbObjective",
    "LogProbObjective",
    "Objective",
    "as_objective",
]

ObjectiveResult = tuple[torch.Tensor, dict[str, torch.Tensor]]
ObjectiveFunction = Callable[[Any, Any], "torch.Tensor | tuple[torch.Tensor, Mapping[str, Any]]"]
_RESERVED = frozenset({"epoch", "batch", "step", "lr", "skipped_batches"})


def _check_name(owner: str, argument: str, name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{owner}: {argument} must be a str, got {type(name).__name__}")
    if not name or name in _RESERVED or name.startswith("val_") or name.endswith("bits_per_dim"):
        raise ValueError(
            f"{owner}: {argument} must be a non-empty name that is not one the trainer "
            f"writes itself ({sorted(_RESERVED)}, 'val_*', '*bits_per_dim'); got {name!r}"
        )
    return name


class Objective:
    """Base class of objectives: override :meth:`__call__` (and the hooks you need).

    Attributes:
        name: the name of the maximised value in metrics and history (a
            :func:`~pygen.train.metric_names.metric_kind` rule applies: ``"log_prob"``
            only for an exact log-likelihood).
        required_items: how many elements each dataset item must have.

    Example:
        >>> import torch
        >>> from pygen.train.objective import Objective
        >>> class NegativeSquare(Objective):
        ...     name = "negative_square"
        ...
        ...     def __call__(self, model, batch):
        ...         return -((batch[0] - model.centre) ** 2), {}
        >>> model = torch.nn.Module()
        >>> model.centre = torch.nn.Parameter(torch.zeros(()))
        >>> value, metrics = NegativeSquare().checked(model, (torch.tensor([1.0, 2.0]),), "demo")
        >>> value.tolist(), metrics
        ([-1.0, -4.0], {})
    """

    name: str = "objective"
    required_items: int = 1
    usage: str = "(x, ...) whose first element is modelled"

    def __call__(self, model: Any, batch: Any) -> ObjectiveResult:
        """The per-example value to maximise and the per-example metrics of one batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    def check_model(self, model: Any, owner: str) -> None:
        """Raise TypeError early if ``model`` cannot be used with this objective."""

    def check_item(self, item: object, what: str) -> None:
        """Check one dataset item (or batch) is a tuple/list long enough.

        Raises:
            TypeError: if ``item`` is not a tuple or list.
            ValueError: if it is too short.
        """
        if not isinstance(item, (tuple, list)):
            raise TypeError(
                f"{what} must be a tuple {self.usage}; got {type(item).__name__}"
                + (f" of shape {list(item.shape)}" if isinstance(item, torch.Tensor) else "")
                + " (wrap tensors in torch.utils.data.TensorDataset)"
            )
        if len(item) < self.required_items:
            raise ValueError(
                f"{what} must be a tuple of at least {self.required_items} element(s) "
                f"{self.usage}; got a {type(item).__name__} of length {len(item)}"
            )

    def target(self, batch: Any) -> Any:
        """The modelled element of a batch (its leading dimension is the batch)."""
        return batch[0]

    def batch_length(self, batch: Any) -> int:
        """The number of examples in ``batch``."""
        target = self.target(batch)
        if isinstance(target, torch.Tensor):
            if target.dim() == 0:
                raise ValueError(
                    "batch: the modelled element must have a leading batch dimension; got a "
                    "0-dimensional tensor"
                )
            return target.shape[0]
        return len(target)

    def event_numel(self, batch: Any) -> int | None:
        """``D`` of bits per dimension: the elements of one modelled example (None: none)."""
        target = self.target(batch)
        if not isinstance(target, torch.Tensor) or target.dim() == 0:
            return None
        numel = math.prod(target.shape[1:])
        return numel if numel >= 1 else None

    def checked(self, model: Any, batch: Any, where: str) -> ObjectiveResult:
        """Call the objective and check it returned one value per example.

        Args:
            model: the module being trained.
            batch: one batch.
            where: names the caller in error messages.

        Returns:
            ``(value, metrics)``, each tensor of shape ``[batch]``.

        Raises:
            TypeError: if the result is not a tensor or ``(tensor, dict)``.
            ValueError: if a tensor is not shaped ``[batch]`` or a metric name is reserved.
        """
        result = self(model, batch)
        size = self.batch_length(batch)
        value, metrics = result if isinstance(result, tuple) else (result, {})
        if not isinstance(value, torch.Tensor) or value.shape != (size,):
            _check_per_example(f"{where}: {self.name}", value, size)
        for key, tensor in metrics.items():
            if not isinstance(tensor, torch.Tensor) or tensor.shape != (size,):
                _check_per_example(f"{where}: metric {key!r}", tensor, size)
        return value, metrics


def _check_per_example(what: str, value: object, size: int) -> None:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{what} must be a tensor, got {type(value).__name__}")
    if value.shape != (size,):
        raise ValueError(
            f"{what} must return one value per example, shape [{size}] for a batch of "
            f"{size}; got shape {list(value.shape)}. Sum the event dimensions into the "
            "event (torch.distributions.Independent) and check the target's shape (a label "
            "shaped [N, 1] against a Categorical of batch [N] broadcasts to [N, N])."
        )


class LogProbObjective(Objective):
    """``model.log_prob(batch[0])``: the exact log-likelihood of the first element.

    Example:
        >>> import torch
        >>> from pygen.train.objective import LogProbObjective
        >>> class Coin(torch.nn.Module):
        ...     def log_prob(self, x):
        ...         return torch.distributions.Bernoulli(0.5).log_prob(x)
        >>> value, _ = LogProbObjective().checked(Coin(), (torch.tensor([0.0, 1.0]),), "demo")
        >>> [round(v, 4) for v in value.tolist()]
        [-0.6931, -0.6931]
    """

    name = "log_prob"

    def __call__(self, model: Any, batch: Any) -> ObjectiveResult:
        return model.log_prob(batch[0]), {}

    def check_model(self, model: Any, owner: str) -> None:
        if not callable(getattr(model, "log_prob", None)):
            raise TypeError(
                f"{owner}: trainable must have a log_prob method, got {type(model).__name__} "
                "without one (for a module mapping inputs to distributions use LayerTrainer)"
            )

    def checked(self, model: Any, batch: Any, where: str) -> ObjectiveResult:
        value = model.log_prob(batch[0])
        size = self.batch_length(batch)
        if not isinstance(value, torch.Tensor) or value.shape != (size,):
            _check_per_example(f"{where}: log_prob", value, size)
        return value, {}


class LayerLogProbObjective(Objective):
    """``model(x).log_prob(y)`` for items ``(x, y, ...)`` (``(y, x, ...)`` reversed).

    Adds a per-example ``"accuracy"`` metric when the output has ``logits`` (or
    ``probs``) with the classes on the last dimension and the target holds integer labels
    of the matching shape (Categorical) or one-hot vectors (OneHotCategorical).

    Args:
        reverse_inputs: model the first element given the second.

    Example:
        >>> import torch
        >>> from pygen.train.objective import LayerLogProbObjective
        >>> layer = lambda x: torch.distributions.Categorical(logits=x)
        >>> batch = (torch.tensor([[2.0, 0.0], [0.0, 2.0]]), torch.tensor([0, 0]))
        >>> value, metrics = LayerLogProbObjective().checked(layer, batch, "demo")
        >>> metrics["accuracy"].tolist()  # one label per example: True where correct
        [True, False]
    """

    name = "log_prob"
    required_items = 2
    usage = "(x, y, ...) with the input and the target"

    def __init__(self, reverse_inputs: bool = False) -> None:
        self.reverse_inputs = bool(reverse_inputs)
        self._accuracy: _Accuracy | bool | None = False  # False: not decided yet

    def _split(self, batch: Any) -> tuple[Any, Any]:
        return (batch[1], batch[0]) if self.reverse_inputs else (batch[0], batch[1])

    def target(self, batch: Any) -> Any:
        return self._split(batch)[1]

    def event_numel(self, batch: Any) -> int | None:
        """Elements of one target example when it is floating point or has several.

        A single integer class label per example gets no bits per dimension.
        """
        target = self.target(batch)
        numel = super().event_numel(batch)
        if numel is None or target.is_floating_point() or numel > 1:
            return numel
        return None

    def __call__(self, model: Any, batch: Any) -> ObjectiveResult:
        inputs, target = self._split(batch)
        return self._evaluate(model, inputs, target)

    def _evaluate(self, model: Any, inputs: Any, target: Any) -> ObjectiveResult:
        output = model(inputs)
        log_prob = getattr(output, "log_prob", None)
        if log_prob is None:
            raise TypeError(
                "LayerTrainer: the trainable's output must be a distribution with a "
                f"log_prob method; calling it returned {type(output).__name__}"
            )
        value = log_prob(target)
        accuracy = self._accuracy
        if accuracy is False:  # decided on the first batch, kept for the run
            accuracy = self._accuracy = _Accuracy.for_output(output, target)
        if accuracy is None:
            return value, {}
        return value, {"accuracy": accuracy(output, target)}

    def checked(self, model: Any, batch: Any, where: str) -> ObjectiveResult:
        inputs, target = self._split(batch)  # split once: this runs every step
        value, metrics = self._evaluate(model, inputs, target)
        if isinstance(target, torch.Tensor) and target.dim():
            size = target.shape[0]
        else:
            size = self.batch_length(batch)
        if not isinstance(value, torch.Tensor) or value.shape != (size,):
            _check_per_example(f"{where}: log_prob", value, size)
        return value, metrics


class CallableObjective(Objective):
    """Wraps ``function(model, batch)``: a per-example tensor, or it plus metrics.

    The function returns the per-example tensor to maximise (shape ``[batch]``), or
    ``(tensor, {name: per-example tensor})``. Name the metrics by what they are: an
    ELBO is ``"elbo"``, never ``"log_prob"`` (see :mod:`pygen.train.metric_names`).

    Args:
        function: the objective.
        name: the name of the maximised value (default ``"objective"``; use ``"elbo"``
            when it is the ELBO itself, ``"log_prob"`` only for an exact likelihood).
        event_numel: ``D`` for bits per dimension; default: the number of elements of
            one example of the batch's first element.

    Raises:
        TypeError: if ``function`` is not callable or ``name`` not a string.
        ValueError: if ``name`` is one the trainer writes itself.

    Example:
        >>> import torch
        >>> from pygen.train.objective import CallableObjective
        >>> def elbo(model, batch):
        ...     reconstruction = -(batch[0] ** 2).sum(-1)
        ...     kl = torch.ones(batch[0].shape[0])
        ...     return reconstruction - kl, {"kl": kl}
        >>> objective = CallableObjective(elbo, name="elbo")
        >>> value, metrics = objective.checked(None, (torch.ones(2, 3),), "demo")
        >>> value.tolist(), sorted(metrics), objective.event_numel((torch.ones(2, 3),))
        ([-4.0, -4.0], ['kl'], 3)
    """

    def __init__(
        self,
        function: ObjectiveFunction,
        *,
        name: str = "objective",
        event_numel: int | None = None,
    ) -> None:
        if not callable(function):
            raise TypeError(
                f"objective must be callable (model, batch) -> tensor, got "
                f"{type(function).__name__}"
            )
        self.function = function
        self.name = _check_name("CallableObjective", "name", name)
        if event_numel is not None and (
            isinstance(event_numel, bool) or not isinstance(event_numel, int) or event_numel < 1
        ):
            raise ValueError(f"event_numel must be a positive int or None, got {event_numel!r}")
        self._event_numel = event_numel
        self._names: tuple[str, ...] | None = None

    def event_numel(self, batch: Any) -> int | None:
        if self._event_numel is not None:
            return self._event_numel
        return super().event_numel(batch)

    def __call__(self, model: Any, batch: Any) -> ObjectiveResult:
        result = self.function(model, batch)
        if not isinstance(result, tuple):
            return result, {}
        if len(result) != 2 or not isinstance(result[1], Mapping):
            raise TypeError(
                "objective must return a per-example tensor or (tensor, dict of per-example "
                f"metric tensors); got a tuple of {len(result)} with "
                f"{[type(part).__name__ for part in result]}"
            )
        value, metrics = result
        names = tuple(metrics)
        if names != self._names:
            for key in names:
                _check_name("objective", "each metric name", key)
                if key == self.name:
                    raise ValueError(
                        f"objective: metric {key!r} has the objective's own name; rename one "
                        "(CallableObjective(function, name=...))"
                    )
            if self._names is not None:
                raise ValueError(
                    f"objective: every batch must return the same metrics; got {list(names)} "
                    f"after {list(self._names)}"
                )
            self._names = names
        return value, dict(metrics)


def as_objective(objective: Objective | ObjectiveFunction) -> Objective:
    """Return ``objective`` itself if it is an :class:`Objective`, else wrap the callable.

    Args:
        objective: an :class:`Objective` or a function ``(model, batch) -> tensor``.

    Returns:
        An :class:`Objective` (a plain function is named ``"objective"``).

    Raises:
        TypeError: if ``objective`` is neither.

    Example:
        >>> from pygen.train.objective import as_objective
        >>> as_objective(lambda model, batch: batch[0]).name
        'objective'
    """
    if isinstance(objective, Objective):
        return objective
    return CallableObjective(objective)


def _class_scores(output: Any) -> tuple[str, torch.Tensor] | None:
    """The output's per-class scores and the attribute holding them (logits, else probs)."""
    for name in ("logits", "probs"):
        try:
            scores = getattr(output, name)
        except (AttributeError, NotImplementedError):
            continue
        if isinstance(scores, torch.Tensor) and scores.dim() >= 1:
            return name, scores
    return None


class _Accuracy:
    """Per-example accuracy (fraction of correct labels in each example), no sync.

    Built once per run from the first batch (:meth:`for_output`), so a step only reads
    the scores, takes their argmax and compares. One label per example gives a boolean
    tensor (True: correct), summed as 1/0.
    """

    def __init__(self, scores: str, onehot: bool) -> None:
        self.scores = scores
        self.onehot = onehot

    @classmethod
    def for_output(cls, output: Any, target: Any) -> _Accuracy | None:
        """The accuracy of ``output`` against targets like ``target``, or None if none."""
        if not isinstance(target, torch.Tensor):
            return None
        found = _class_scores(output)
        if found is None:
            return None
        name, scores = found
        integer = not target.is_floating_point() and target.dtype != torch.bool
        if integer and scores.shape[:-1] == target.shape:
            return cls(name, onehot=False)
        event_shape = getattr(output, "event_shape", None)
        if (
            event_shape is not None
            and tuple(event_shape) == tuple(scores.shape[-1:])
            and target.shape == scores.shape
        ):
            return cls(name, onehot=True)
        return None

    def __call__(self, output: Any, target: torch.Tensor) -> torch.Tensor:
        labels = target.argmax(-1) if self.onehot else target
        correct = getattr(output, self.scores).argmax(-1) == labels
        return correct if correct.dim() == 1 else correct.flatten(1).float().mean(1)
