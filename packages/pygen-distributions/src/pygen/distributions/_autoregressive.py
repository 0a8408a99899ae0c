"""One generation contract for the autoregressive models: MADE, the PixelCNNs, MAF (private).

Each of them draws its variables one after another in an order, and each can *complete*:
keep the observed entries of ``x`` and draw the others. :class:`AutoregressiveModel`
holds the two public methods once, with one signature::

    sample(sample_shape=(), condition=None, *, temperature=1.0, method=None, generator=None)
    complete(x, observed_mask, sample_shape=(), condition=None, *, temperature=1.0,
             method=None, generator=None)

and their checks, in one order (method; for ``complete`` the observed values and mask;
then sample shape, temperature, generator, condition), the broadcasting of ``x``,
``observed_mask`` and the condition against ``sample_shape``
(``_completion.flatten_generation``), eval mode and ``torch.no_grad()``. A subclass
supplies the per-model step, :meth:`_generate_flat`, on flat ``[N, *event_shape]``
batches, plus the small hooks listed on the class.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import ClassVar, Literal

import torch
from torch import Tensor

from pygen.distributions._completion import (
    FlatBatch,
    check_generator,
    check_observed,
    check_temperature,
    flatten_generation,
)
from pygen.distributions._deprecation import keyword_only_from_attribute, renamed_keyword
from pygen.distributions._validation import check_sample_shape

__all__ = ["METHODS", "AutoregressiveModel", "SampleMethod", "draw_noise"]

SampleMethod = Literal["fast", "naive"]
METHODS = ("fast", "naive")


def draw_noise(
    shape: Sequence[int],
    generator: torch.Generator | None,
    like: Tensor,
    *,
    normal: bool = False,
) -> Tensor:
    """Uniforms (or standard normals) of ``shape`` in ``like``'s dtype and on its device.

    They are drawn on the generator's device (so a CPU generator seeds a CUDA model) and
    moved.
    """
    device = generator.device if generator is not None else like.device
    draw = torch.randn if normal else torch.rand
    noise = draw(tuple(shape), generator=generator, dtype=like.dtype, device=device)
    return noise.to(like.device)


class AutoregressiveModel(abc.ABC):
    """``sample`` and ``complete`` of a model that generates its variables in an order.

    Mixed into an ``nn.Module`` (before it in the bases). A subclass provides:

    - ``event_shape`` and ``_check_condition(condition) -> Tensor | None`` (the model's
      own condition check, which it uses for ``log_prob`` too);
    - ``_check_value(x) -> Tensor``: the shape and support check of a value, applied to
      the observed entries of a completion;
    - ``_reference_tensor() -> Tensor``: a parameter, whose dtype and device the result
      takes;
    - :meth:`_generate_flat`: the generation itself;
    - optionally ``_condition_ndim()`` (default 1, a vector) and
      ``_legacy_sample_positional``, the names ``sample`` took positionally after
      ``condition`` before they became keyword-only (passing them so still works, with a
      DeprecationWarning).
    """

    _legacy_sample_positional: ClassVar[tuple[str, ...]] = ("generator",)

    # What the model has anyway (MAF gets both from Flow, which comes after this mixin in
    # its bases, so they are declared here, not defined).
    event_shape: torch.Size
    _check_condition: Callable[[object], Tensor | None]

    # ------------------------------------------------------------------ hooks

    @abc.abstractmethod
    def _check_value(self, x: object) -> Tensor:
        """``x`` validated (shape ending in ``event_shape``, support), in the model's dtype."""

    @abc.abstractmethod
    def _reference_tensor(self) -> Tensor:
        """A tensor with the model's dtype and device (one of its parameters)."""

    @abc.abstractmethod
    def _generate_flat(
        self,
        flat: FlatBatch,
        *,
        temperature: float,
        method: SampleMethod | None,
        generator: torch.Generator | None,
    ) -> Tensor:
        """Draw ``[flat.count, *event_shape]`` values (``flat.count > 0``).

        ``flat.condition`` is ``[N, *condition_shape]`` or ``None``; for a completion
        ``flat.observed`` and ``flat.mask`` are ``[N, *event_shape]`` (observed values,
        unobserved entries 0, and the bool mask), else ``None``. Runs in eval mode under
        ``torch.no_grad()``; the arguments are checked already.
        """

    def _condition_ndim(self) -> int:
        """Number of trailing dims of one condition (1: a vector)."""
        return 1

    # ------------------------------------------------------------ public methods

    @keyword_only_from_attribute(3, "_legacy_sample_positional")
    def sample(
        self,
        sample_shape: Sequence[int] | torch.Size = (),
        condition: Tensor | None = None,
        *,
        temperature: float = 1.0,
        method: SampleMethod | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Draw from the model, one variable after another in its order.

        Runs in ``torch.no_grad()`` with the module in eval mode (its mode is restored),
        so dropout is off. The same signature and checks on MADE, every PixelCNN and
        MAF; each model's class docstring says what ``temperature`` does to it.

        Args:
            sample_shape: Leading sample dims.
            condition: For a conditional model, conditions ``[*B, *condition_shape]``; the
                result then has shape ``sample_shape + B + event_shape``.
            temperature: Positive; ``1`` samples the model itself (see the class for what
                other values do).
            method: ``"fast"`` (cached activations) or ``"naive"`` (one full network pass
                per variable, the reference); ``None`` is the model's default (``"fast"``;
                a MAF's own ``sampling_method``). Both give the same values for the same
                ``generator`` (exactly in float64).
            generator: Source of the noise, drawn up front, so the same seed gives the
                same draw on both methods.

        Returns:
            Values of shape ``sample_shape + event_shape`` (plus the condition's batch
            dims), dtype of the model's parameters.

        Raises:
            TypeError: If ``sample_shape`` is not a sequence of ints, ``temperature`` not
                a number, or ``generator`` not a ``torch.Generator``.
            ValueError: If ``method`` is unknown, ``sample_shape`` has a negative entry,
                ``temperature`` is not positive, or ``condition`` is missing, unexpected
                or of the wrong shape.
        """
        return self._generate(
            sample_shape, condition, None, None,
            temperature=temperature, method=method, generator=generator,
        )  # fmt: skip

    @renamed_keyword("images", "x")
    def complete(
        self,
        x: Tensor,
        observed_mask: Tensor,
        sample_shape: Sequence[int] | torch.Size = (),
        condition: Tensor | None = None,
        *,
        temperature: float = 1.0,
        method: SampleMethod | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Fill in the unobserved entries of ``x``, keeping the observed ones exactly.

        Entries are visited in the model's order; each unobserved one is drawn given
        everything before it. When the observed entries come first in that order in every
        row this is exact sampling from ``p(rest | observed)``. For other masks MADE and
        the PixelCNNs in-fill autoregressively (evidence later in the order is not taken
        into account); MAF refuses them (see its docstring). An all-``False`` mask gives
        exactly :meth:`sample`'s values for the same seed.

        Args:
            x: ``[*B1, *event_shape]`` values; only the observed entries are read (and
                must be in the support), the others may hold anything. (The old keyword
                ``images=`` still works, with a DeprecationWarning.)
            observed_mask: ``[*B2, *event_shape]`` bools, ``True`` where observed; ``B1``,
                ``B2`` and the condition's batch dims broadcast to ``B``.
            sample_shape: Leading sample dims: completions per row.
            condition: As for :meth:`sample`.
            temperature: As for :meth:`sample`.
            method: As for :meth:`sample`.
            generator: As for :meth:`sample`.

        Returns:
            Completed values of shape ``sample_shape + B + event_shape``.

        Raises:
            TypeError: If ``x`` is not a tensor, ``observed_mask`` not a bool tensor, or
                another argument as for :meth:`sample`.
            ValueError: If ``x`` or ``observed_mask`` does not end in ``event_shape`` (the
                message names both shapes), the batch dims do not broadcast, an observed
                value is outside the support, or another argument as for :meth:`sample`.
        """
        _check_method(method)
        filled = check_observed(
            x, observed_mask, self.event_shape, self._reference_tensor().dtype,
            self._check_value, name="x",
        )  # fmt: skip
        return self._generate(
            sample_shape, condition, filled, observed_mask,
            temperature=temperature, method=method, generator=generator,
        )  # fmt: skip

    # ---------------------------------------------------------------- plumbing

    def _generate(
        self,
        sample_shape: Sequence[int] | torch.Size,
        condition: Tensor | None,
        observed: Tensor | None,
        mask: Tensor | None,
        *,
        temperature: float,
        method: SampleMethod | None,
        generator: torch.Generator | None,
    ) -> Tensor:
        """``sample`` (``observed is None``) and ``complete``: checks, flattening, eval mode."""
        _check_method(method)
        sample_shape = check_sample_shape(sample_shape)
        temperature = check_temperature(temperature)
        generator = check_generator(generator)
        condition = self._check_condition(condition)
        condition_ndim = 0 if condition is None else self._condition_ndim()
        flat = flatten_generation(
            sample_shape, self.event_shape, condition, condition_ndim, observed, mask
        )
        reference = self._reference_tensor()
        if flat.count == 0:
            return torch.zeros(flat.out_shape, dtype=reference.dtype, device=reference.device)
        module = self  # the subclass is an nn.Module
        was_training = module.training  # type: ignore[attr-defined]
        module.eval()  # type: ignore[attr-defined]
        try:
            with torch.no_grad():
                values = self._generate_flat(
                    flat, temperature=temperature, method=method, generator=generator
                )
        finally:
            module.train(was_training)  # type: ignore[attr-defined]
        return values.reshape(flat.out_shape)


def _check_method(method: object) -> None:
    if method is not None and method not in METHODS:
        raise ValueError(
            f"method: expected one of {METHODS}, found {method!r} (or None: the model's default)"
        )
