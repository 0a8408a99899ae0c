r"""The foundation of pygen's normalizing flows (private; the public names are re-exported).

Spec, in five rules:

1. **A trainable transform is both an ``nn.Module`` and a ``torch.distributions.Transform``**
   (:class:`FlowTransform`). Subclasses implement two methods only,
   ``_forward_and_ladj(x, condition)`` and ``_inverse_and_ladj(y, condition)``, each
   returning the mapped tensor and ``log|det J|`` *of the forward map* at that point,
   summed over the ``event_dim`` rightmost dims (shape ``x.shape[:-event_dim]``). The base
   derives ``__call__``/``_call``/``_inverse``/``log_abs_det_jacobian``/``inv`` from them.
   ``y = t(x)`` is torch's ``Transform.__call__`` (not ``nn.Module.__call__``; ``forward``
   is the same map), so ``TransformedDistribution(base, [t])`` works unchanged.
   Identity semantics: ``__eq__`` is ``is`` and ``__hash__`` is ``object.__hash__`` (a
   module must be hashable; torch's ``Transform.__eq__`` alone would make it unhashable).
   ``t.inv`` is torch's weak-referenced ``_InverseTransform``: use it in
   ``TransformedDistribution``; to *hold* an inverse inside a flow, wrap it in
   :class:`InverseFlowTransform` (a module, so its parameters stay registered).
   ``cache_size`` is 0: a flow module is called with many tensors and must stay
   deep-copyable; instead the last ``(x, y, ladj)`` of a call is kept in one slot so that
   ``log_abs_det_jacobian(x, y)`` right after ``t(x)`` or ``t.inv(y)`` costs nothing (the
   slot is dropped from pickles and deep copies).

2. **Conditioning** is a method, not an argument of ``__call__``: a transform built with
   ``condition_size=C`` is bound to a condition by ``t.conditioned(c)``, which returns a
   plain ``Transform`` (:class:`ConditionedTransform`) for that condition, ``c`` shaped
   ``[*B, C]`` broadcasting with the batch dims of ``x``. This is zuko's
   ``LazyTransform.forward(c) -> Transform`` under a name that does not clash with
   ``Transform.__call__``. Calling a conditional transform without a condition (or an
   unconditional one with a condition) is a ``ValueError`` naming ``condition_size``.

3. **A flow distribution** (:class:`Flow`) is an ``nn.Module`` holding a list of transforms
   (generative direction: base noise ``z`` -> data ``x``) and a base distribution
   (default: a standard normal over ``event_shape``, kept as buffers so ``.to()`` moves
   it). It has ``log_prob(x, condition=None)``, ``sample``/``rsample(sample_shape=(),
   condition=None, *, generator=None)``, ``event_shape`` and ``batch_shape`` (``[]``; a
   condition ``[*B, C]`` adds batch dims ``B``), following the package's shape rules:
   ``sample(S, condition [*B, C])`` is ``S + B + event_shape``; ``log_prob(x [*S, *B, *E],
   condition [*B, C])`` is ``broadcast(S + B)``. ``flow(condition)`` (``forward``) returns a
   genuine ``torch.distributions.TransformedDistribution`` of the base and the
   (conditioned) transforms, so a flow is also a layer for ``LayerTrainer``
   (``flow(inputs).log_prob(targets)``) and composes with torch's distribution code.

4. **Validation** uses :mod:`._validation` (torch's "expected ... found ..." form): the
   value must be a floating tensor ending in ``event_shape``, without the trailing-1 trap
   against a condition's batch dims, and finite; the condition ``[..., C]``.

5. **Numbers**: transforms run in the dtype of their parameters (``flow.double()`` for
   exactness tests); values and conditions are cast to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.distributions import (
    Distribution,
    Independent,
    Normal,
    Transform,
    TransformedDistribution,
    constraints,
)

from pygen.distributions._completion import check_generator
from pygen.distributions._deprecation import keyword_only_from
from pygen.distributions._validation import (
    broadcast_condition_batch,
    broadcast_shapes,
    check_condition,
    check_sample_shape,
    check_value_shape,
)

__all__ = [
    "ConditionedTransform",
    "Flow",
    "FlowDistribution",
    "FlowTransform",
    "InverseFlowTransform",
    "broadcast_condition",
]


def broadcast_condition(x: Tensor, condition: Tensor | None, event_dim: int) -> Tensor | None:
    """Expand ``condition [*B, C]`` to the batch dims of ``x [*S, *B, *event]``.

    Raises:
        ValueError: If the batch dims do not broadcast.
    """
    if condition is None:
        return None
    batch = x.shape[: x.dim() - event_dim]
    cond_batch = condition.shape[:-1]
    try:
        full = broadcast_shapes(batch, cond_batch)
    except RuntimeError:
        raise ValueError(
            f"condition: expected batch dims that broadcast with those of the value "
            f"{tuple(batch)}, found condition shape {tuple(condition.shape)}"
        ) from None
    if full != batch:
        raise ValueError(
            f"condition: its batch dims {tuple(cond_batch)} would enlarge the value's batch "
            f"dims {tuple(batch)}; expand the value first (found value shape "
            f"{tuple(x.shape)}, condition shape {tuple(condition.shape)})"
        )
    return condition.expand(*batch, condition.shape[-1])


class FlowTransform(nn.Module, Transform):
    """Base of pygen's trainable bijections: an ``nn.Module`` that is a ``Transform``.

    Subclasses implement :meth:`_forward_and_ladj` and :meth:`_inverse_and_ladj`.

    Args:
        event_dim: Number of rightmost dims one event has (1 for vectors, 3 for images).
        condition_size: Length of the conditioning vector, or ``None`` (unconditional).
    """

    bijective = True
    __hash__ = object.__hash__

    def __init__(self, event_dim: int = 1, condition_size: int | None = None) -> None:
        nn.Module.__init__(self)
        Transform.__init__(self, cache_size=0)
        self._event_dim = int(event_dim)
        self.condition_size = condition_size
        self._slot: tuple[Tensor, Tensor, Tensor] | None = None

    # The Transform side ---------------------------------------------------------------
    __call__ = Transform.__call__

    def __eq__(self, other: object) -> bool:
        return other is self

    def __ne__(self, other: object) -> bool:
        return other is not self

    def __getstate__(self) -> dict:
        state = Transform.__getstate__(self)
        state["_slot"] = None
        return state

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        """Real values with ``event_dim`` event dims."""
        return constraints.independent(constraints.real, self._event_dim)

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        """Real values with ``event_dim`` event dims."""
        return constraints.independent(constraints.real, self._event_dim)

    @property
    def event_dim(self) -> int:
        """Number of rightmost dims of one event."""
        return self._event_dim

    def forward(self, x: Tensor) -> Tensor:
        """The forward map ``y = f(x)`` (same as ``t(x)``)."""
        return self._call(x)

    def _call(self, x: Tensor) -> Tensor:
        return self._apply_forward(x, self._unconditional())

    def _inverse(self, y: Tensor) -> Tensor:
        return self._apply_inverse(y, self._unconditional())

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """``log|det df/dx|`` at ``x`` (``y = f(x)``), shape ``x.shape[:-event_dim]``."""
        return self._ladj(x, y, self._unconditional())

    # Shared by the conditioned views ---------------------------------------------------
    def _unconditional(self) -> None:
        if self.condition_size is not None:
            raise ValueError(
                f"condition: this transform was built with condition_size="
                f"{self.condition_size}; bind a condition first: t.conditioned(condition)"
            )
        return None

    def _apply_forward(self, x: Tensor, condition: Tensor | None) -> Tensor:
        y, ladj = self._forward_and_ladj(x, broadcast_condition(x, condition, self._event_dim))
        self._slot = (x, y, ladj)
        return y

    def _apply_inverse(self, y: Tensor, condition: Tensor | None) -> Tensor:
        x, ladj = self._inverse_and_ladj(y, broadcast_condition(y, condition, self._event_dim))
        self._slot = (x, y, ladj)
        return x

    def _ladj(self, x: Tensor, y: Tensor, condition: Tensor | None) -> Tensor:
        slot = self._slot
        if slot is not None and slot[0] is x and slot[1] is y:
            return slot[2]
        return self._forward_and_ladj(x, broadcast_condition(x, condition, self._event_dim))[1]

    def conditioned(self, condition: Tensor | None) -> Transform:
        """This transform bound to ``condition`` (``[*B, condition_size]``).

        Raises:
            ValueError: If the condition is missing, unexpected or of the wrong size.
        """
        dtype = self._dtype()
        condition = check_condition(condition, self.condition_size, dtype)
        if condition is None:
            return self
        return ConditionedTransform(self, condition)

    def _dtype(self) -> torch.dtype:
        for p in self.parameters():
            return p.dtype
        for b in self.buffers():
            if b.is_floating_point():
                return b.dtype
        return torch.get_default_dtype()

    # To implement ----------------------------------------------------------------------
    def _forward_and_ladj(self, x: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def _inverse_and_ladj(self, y: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        raise NotImplementedError


class ConditionedTransform(Transform):
    """A :class:`FlowTransform` bound to one condition (what ``t.conditioned(c)`` returns).

    A plain ``Transform`` (not a module): it holds no parameters of its own.
    """

    bijective = True

    def __init__(self, transform: FlowTransform, condition: Tensor) -> None:
        super().__init__(cache_size=0)
        self.transform = transform
        self.condition = condition

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        """The wrapped transform's domain."""
        return self.transform.domain

    @property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        """The wrapped transform's codomain."""
        return self.transform.codomain

    def _call(self, x: Tensor) -> Tensor:
        return self.transform._apply_forward(x, self.condition)

    def _inverse(self, y: Tensor) -> Tensor:
        return self.transform._apply_inverse(y, self.condition)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return self.transform._ladj(x, y, self.condition)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.transform!r}, condition={tuple(self.condition.shape)})"


class InverseFlowTransform(FlowTransform):
    """The inverse of a :class:`FlowTransform`, as a module (parameters stay registered).

    ``InverseFlowTransform(t)`` maps ``y -> t^{-1}(y)``; it shares ``t``'s parameters, so
    the two are exact inverses of each other at all times. IAF is built this way from
    MAF's transform.

    Args:
        transform: The transform to invert.
    """

    def __init__(self, transform: FlowTransform) -> None:
        if not isinstance(transform, FlowTransform):
            raise TypeError(
                f"transform: expected a FlowTransform, found {type(transform).__name__}"
            )
        super().__init__(transform.event_dim, transform.condition_size)
        self.transform = transform

    def _forward_and_ladj(self, x: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        y, ladj = self.transform._inverse_and_ladj(x, condition)
        return y, -ladj

    def _inverse_and_ladj(self, y: Tensor, condition: Tensor | None) -> tuple[Tensor, Tensor]:
        x, ladj = self.transform._forward_and_ladj(y, condition)
        return x, -ladj


def _check_event_shape(event_shape: Sequence[int]) -> torch.Size:
    shape = list(event_shape)
    if not shape or any(not isinstance(s, int) or isinstance(s, bool) or s < 1 for s in shape):
        raise ValueError(
            f"event_shape: expected a non-empty sequence of positive ints, found {shape}"
        )
    return torch.Size(shape)


class Flow(nn.Module):
    """A normalizing flow: base noise ``z`` pushed through transforms to data ``x``.

    ``x = t_n(... t_1(z))`` with ``z ~ base``, so ``log p(x) = log base(z) - sum_k
    log|det J_k|``. Every transform is a :class:`FlowTransform` (its ``condition_size``
    must equal the flow's, or be ``None`` for an unconditioned transform such as a
    permutation).

    Args:
        transforms: The transforms, in the generative direction (noise to data).
        event_shape: Shape of one event, e.g. ``[2]``.
        base: The base distribution: ``None`` for a standard normal over ``event_shape``
            (as buffers, so it follows ``.to()``), a ``torch.distributions.Distribution``
            or an ``nn.Module`` with ``log_prob``/``sample``/``rsample`` (another flow)
            whose ``event_shape`` is ``event_shape`` and whose ``batch_shape`` is ``[]``.
        condition_size: Length ``C`` of the conditioning vector, or ``None``.

    Raises:
        TypeError: If a transform is not a ``FlowTransform`` or the base has no ``log_prob``.
        ValueError: If a transform's ``condition_size`` or the base's shapes disagree.

    Example:
        >>> import torch
        >>> from pygen.distributions import Flow, Reverse
        >>> flow = Flow([Reverse(2)], event_shape=[2])
        >>> x = flow.sample((3,), generator=torch.Generator().manual_seed(0))
        >>> x.shape, flow.log_prob(x).shape
        (torch.Size([3, 2]), torch.Size([3]))
    """

    def __init__(
        self,
        transforms: Sequence[FlowTransform],
        event_shape: Sequence[int],
        *,
        base: Distribution | nn.Module | None = None,
        condition_size: int | None = None,
    ) -> None:
        super().__init__()
        self._event_shape = _check_event_shape(event_shape)
        self.condition_size = condition_size
        for k, t in enumerate(transforms):
            if not isinstance(t, FlowTransform):
                raise TypeError(
                    f"transforms[{k}]: expected a FlowTransform, found {type(t).__name__}"
                )
            if t.condition_size is not None and t.condition_size != condition_size:
                raise ValueError(
                    f"transforms[{k}]: expected condition_size {condition_size} (the flow's), "
                    f"found {t.condition_size}"
                )
            if t.event_dim > len(self._event_shape):
                raise ValueError(
                    f"transforms[{k}]: expected event_dim <= {len(self._event_shape)} "
                    f"(len(event_shape)), found {t.event_dim}"
                )
        self.transforms = nn.ModuleList(transforms)
        self._base_distribution: Distribution | None = None
        self.base_module: nn.Module | None = None
        if base is None:
            self.register_buffer("_base_loc", torch.zeros(self._event_shape))
            self.register_buffer("_base_scale", torch.ones(self._event_shape))
        else:
            if not hasattr(base, "log_prob") or not hasattr(base, "sample"):
                raise TypeError(
                    "base: expected a Distribution or a module with log_prob and sample, "
                    f"found {type(base).__name__}"
                )
            if tuple(base.event_shape) != tuple(self._event_shape) or tuple(base.batch_shape):
                raise ValueError(
                    f"base: expected event_shape {tuple(self._event_shape)} and batch_shape (), "
                    f"found event_shape {tuple(base.event_shape)} and batch_shape "
                    f"{tuple(base.batch_shape)}"
                )
            if isinstance(base, nn.Module):
                self.base_module = base
            else:
                self._base_distribution = base

    @property
    def event_shape(self) -> torch.Size:
        """Shape of one event."""
        return self._event_shape

    @property
    def batch_shape(self) -> torch.Size:
        """``torch.Size([])``: one distribution (a condition adds batch dims)."""
        return torch.Size()

    def _dtype(self) -> torch.dtype:
        for p in self.parameters():
            return p.dtype
        if self.base_module is None and self._base_distribution is None:
            return self._base_loc.dtype
        return torch.get_default_dtype()

    def base(self) -> Distribution | nn.Module:
        """The base distribution (a fresh standard normal over the buffers by default)."""
        if self.base_module is not None:
            return self.base_module
        if self._base_distribution is not None:
            return self._base_distribution
        return Independent(Normal(self._base_loc, self._base_scale), len(self._event_shape))

    # ----------------------------------------------------------------------- checks
    def _check_condition(self, condition: object) -> Tensor | None:
        return check_condition(condition, self.condition_size, self._dtype())

    def _check_x(self, x: object, condition: Tensor | None) -> Tensor:
        check_value_shape(x, torch.Size(), self._event_shape, name="x")
        assert isinstance(x, Tensor)
        if not x.is_floating_point():
            raise TypeError(f"x: expected a floating-point tensor, found dtype {x.dtype}")
        finite = torch.isfinite(x)
        if not bool(finite.all()):
            raise ValueError(
                f"x: expected finite values, found {x[~finite][0].item()} in a tensor of "
                f"shape {tuple(x.shape)}"
            )
        x = x.to(self._dtype())
        if condition is not None:
            batch = broadcast_condition_batch(
                x.shape, self._event_shape, condition.shape, condition.shape[-1:],
                owner=f"{type(self).__name__}.log_prob",
            )  # fmt: skip
            x = x.expand(*batch, *self._event_shape)
        return x

    def _bound(self, condition: Tensor | None) -> list[Transform]:
        return [
            t if t.condition_size is None else ConditionedTransform(t, condition)  # type: ignore[arg-type]
            for t in self.transforms
        ]

    # ------------------------------------------------------------------- likelihood
    def log_prob(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Exact log-density of ``x`` (nats).

        Args:
            x: ``[*S, *event_shape]`` real values.
            condition: For a conditional flow, ``[*B, condition_size]`` broadcasting with
                the batch dims of ``x``.

        Returns:
            Log-densities shaped like the broadcast batch dims.

        Raises:
            TypeError: If ``x`` is not a floating-point tensor.
            ValueError: If ``x`` does not end in ``event_shape``, is not finite, has the
                trailing-1 trap against the condition, or the condition is missing,
                unexpected or of the wrong size.
        """
        condition = self._check_condition(condition)
        x = self._check_x(x, condition)
        return self._log_prob(x, condition)

    def _log_prob(self, x: Tensor, condition: Tensor | None) -> Tensor:
        n_event = len(self._event_shape)
        total = torch.zeros((), dtype=x.dtype, device=x.device)
        for t in reversed(self.transforms):
            c = None if t.condition_size is None else condition
            c = broadcast_condition(x, c, t.event_dim)
            x, ladj = t._inverse_and_ladj(x, c)
            total = total + _sum_rightmost(ladj, n_event - t.event_dim)
        return self.base().log_prob(x) - total

    def forward(self, condition: Tensor | None = None) -> FlowDistribution:
        """The flow for ``condition`` as a ``torch.distributions.TransformedDistribution``.

        Its ``batch_shape`` is the condition's batch dims, so ``flow(c).log_prob(x)``
        scores one ``x`` per condition (``LayerTrainer``'s contract); its ``log_prob`` is
        :meth:`log_prob` with the condition bound (validated, the trailing-1 trap refused).

        Raises:
            ValueError: If the condition is missing, unexpected or of the wrong size.
        """
        condition = self._check_condition(condition)
        base = self.base()
        if condition is not None:
            if isinstance(base, nn.Module):
                raise ValueError(
                    "condition: a flow whose base is a module cannot build a "
                    "TransformedDistribution with batch dims; use log_prob(x, condition)"
                )
            base = base.expand(condition.shape[:-1])
        return FlowDistribution(self, base, condition)

    # ----------------------------------------------------------------------- sample
    @keyword_only_from(3, ("generator",))
    def rsample(
        self,
        sample_shape: Sequence[int] | torch.Size = (),
        condition: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Reparameterised samples, ``sample_shape + B + event_shape`` (B: condition batch).

        ``generator`` is a keyword, as for MADE's and the PixelCNNs' ``sample`` (passing
        it positionally still works, with a DeprecationWarning).

        Raises:
            TypeError: If ``sample_shape`` is not a sequence of ints or ``generator`` not
                a ``torch.Generator``.
            ValueError: If the condition is missing, unexpected or of the wrong size.
        """
        sample_shape = check_sample_shape(sample_shape)
        generator = check_generator(generator)
        condition = self._check_condition(condition)
        batch = torch.Size() if condition is None else condition.shape[:-1]
        z = self._base_rsample(sample_shape + batch, generator)
        if condition is not None:
            condition = condition.expand(*sample_shape, *condition.shape)
        for t in self.transforms:
            c = None if t.condition_size is None else condition
            z = t._forward_and_ladj(z, c)[0]
        return z

    @keyword_only_from(3, ("generator",))
    def sample(
        self,
        sample_shape: Sequence[int] | torch.Size = (),
        condition: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Samples without gradient, ``sample_shape + B + event_shape``; as :meth:`rsample`."""
        with torch.no_grad():
            return self.rsample(sample_shape, condition, generator=generator)

    def _base_rsample(self, shape: torch.Size, generator: torch.Generator | None) -> Tensor:
        base = self.base()
        if self.base_module is None and self._base_distribution is None:
            loc = self._base_loc
            eps = torch.randn(
                (*shape, *self._event_shape), generator=generator, dtype=loc.dtype,
                device=loc.device if generator is None else generator.device,
            ).to(loc.device)  # fmt: skip
            return loc + self._base_scale * eps
        if generator is not None:
            raise ValueError(
                "generator: only the default standard-normal base draws from a generator; "
                f"found base {type(base).__name__}"
            )
        if getattr(base, "has_rsample", True) and hasattr(base, "rsample"):
            return base.rsample(shape)
        return base.sample(shape)


class FlowDistribution(TransformedDistribution):
    """What ``flow(condition)`` returns: a ``TransformedDistribution`` bound to a condition.

    ``base_dist`` and ``transforms`` are the flow's (conditioned), so torch's code reads it
    as any other transformed distribution (``rsample``, ``sample``, ``batch_shape``);
    ``log_prob`` goes through :meth:`Flow.log_prob`, one pass with its checks.
    """

    def __init__(self, flow: Flow, base: Distribution, condition: Tensor | None) -> None:
        self.flow = flow
        self.condition = condition
        super().__init__(base, flow._bound(condition), validate_args=False)

    def log_prob(self, value: Tensor) -> Tensor:
        """``flow.log_prob(value, condition)``."""
        return self.flow.log_prob(value, self.condition)


def _sum_rightmost(value: Tensor, dims: int) -> Tensor:
    return value.sum(list(range(-dims, 0))) if dims > 0 else value
