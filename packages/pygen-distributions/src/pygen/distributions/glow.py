r"""Glow: a multi-scale normalising flow over images ``[C, H, W]`` with an exact ``log_prob``.

Kingma and Dhariwal (2018, "Glow: Generative Flow with Invertible 1x1 Convolutions"),
with the multi-scale architecture of RealNVP (Dinh et al. 2017). In the normalising
direction (data to latent) each of ``num_levels`` levels squeezes ``[C, H, W]`` to
``[4C, H/2, W/2]`` (:class:`~pygen.distributions.Squeeze`), runs ``num_steps`` steps of
:class:`~pygen.distributions.ActNorm`, :class:`~pygen.distributions.InvertibleConv1x1`
and an affine coupling, and then (except at the last level) splits off half of the
channels: they are latent from there on, the other half goes on to the next level. With
``learned_prior=True`` a factored-out half is first standardised by a mean and log-scale
that a zero-initialised convolution computes from the half that goes on (and the
condition), Glow's learned prior ``p(z_out | z_on)``; it is an affine map conditioned on
the other half, so it enters the log-determinant and the base stays standard normal. The
factored-out parts are unsqueezed back into place, so the latent ``z`` has the image's
own shape ``[C, H, W]`` and the base distribution is over it:

.. math::
    \log p(x) = \log p_{\mathrm{base}}(z(x))
    + \log\left|\det \frac{\partial z}{\partial x}\right|.

This is a density over continuous images. For 8-bit (discrete) images, train and report
it through a dequantization (:class:`~pygen.distributions.Dequantized` with
:class:`~pygen.distributions.UniformDequantization` or
:class:`~pygen.distributions.VariationalDequantization`), which gives a lower bound on
the discrete data's log-likelihood, reported as ``elbo``, never as ``log_prob``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.distributions import Distribution, Independent, Normal

from pygen.distributions._deprecation import keyword_only_from
from pygen.distributions._glow_network import FlowStep
from pygen.distributions._image_flow import check_image, check_image_shape
from pygen.distributions._validation import (
    broadcast_condition_batch,
    check_count,
    check_sample_shape,
)
from pygen.distributions.squeeze import squeeze, unsqueeze

__all__ = ["Glow"]

LOG_2PI = math.log(2.0 * math.pi)


class Glow(nn.Module):
    """A Glow flow distribution over images ``[C, H, W]`` (optionally conditional).

    ``log_prob(x)`` is exact. ``sample`` / ``rsample`` draw ``z`` from the base
    distribution and run the flow backwards (``rsample`` keeps the gradient).
    ``batch_shape`` is ``()``; with a condition, the condition's batch dims broadcast
    with those of ``x`` as in ``torch.distributions``.

    Args:
        event_shape: ``[C, H, W]``; ``H`` and ``W`` divisible by ``2 ** num_levels``.
        num_levels: Squeeze levels (0: no squeeze, steps on ``[C, H, W]`` itself, which
            then needs ``C >= 2``).
        num_steps: Flow steps per level.
        hidden_channels: Width of each coupling network.
        condition_shape: None (unconditional), ``[D]`` for a vector condition (spread
            over every pixel), or ``[C_c, H, W]`` for a condition map with the image's
            height and width (squeezed with the image at each level). The condition
            enters every coupling network.
        base: The base distribution over ``z`` (event shape ``[C, H, W]``, batch shape
            ``()``); default a standard normal, held as buffers so it follows ``.to()``.
        generator: Draws the initial rotations of the 1x1 convolutions.
        learned_prior: Model each factored-out half given the half that goes on (a 3x3
            convolution, zero-initialised so that the flow starts as without it), as
            Glow does; needs ``num_levels >= 2`` (with fewer, nothing is split off).

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If the shapes do not fit (the message names them).

    Example:
        >>> import torch
        >>> from pygen.distributions import Glow
        >>> _ = torch.manual_seed(0)
        >>> glow = Glow([1, 8, 8], num_levels=2, num_steps=2, hidden_channels=16)
        >>> x = torch.rand(5, 1, 8, 8)
        >>> glow.log_prob(x).shape  # the first call also initialises every ActNorm
        torch.Size([5])
        >>> glow.sample((3,)).shape
        torch.Size([3, 1, 8, 8])
        >>> labels = Glow([1, 8, 8], num_levels=1, num_steps=1, condition_shape=[10])
        >>> labels.log_prob(x, condition=torch.eye(10)[:5]).shape
        torch.Size([5])
        >>> prior = Glow([1, 8, 8], num_levels=2, num_steps=2, learned_prior=True)
        >>> [tuple(conv.weight.shape) for conv in prior.split_priors]  # [2 * out, on, 3, 3]
        [(4, 2, 3, 3)]
    """

    _base_loc: Tensor
    _base_scale: Tensor

    def __init__(
        self,
        event_shape: Sequence[int],
        *,
        num_levels: int = 2,
        num_steps: int = 4,
        hidden_channels: int = 64,
        condition_shape: Sequence[int] | None = None,
        base: Distribution | None = None,
        generator: torch.Generator | None = None,
        learned_prior: bool = False,
    ) -> None:
        super().__init__()
        self.event_shape = check_image_shape("Glow", "event_shape", event_shape)
        self.batch_shape = torch.Size()
        self.num_levels = check_count("num_levels", num_levels, 0)
        self.num_steps = check_count("num_steps", num_steps, 1)
        self.hidden_channels = check_count("hidden_channels", hidden_channels, 1)
        c, h, w = self.event_shape
        factor = 2**self.num_levels
        if h % factor or w % factor:
            raise ValueError(
                f"Glow: event_shape: expected H and W divisible by 2 ** num_levels = "
                f"{factor}, found event_shape {list(self.event_shape)} with "
                f"num_levels={self.num_levels}"
            )
        if self.num_levels == 0 and c < 2:
            raise ValueError(
                f"Glow: num_levels=0 needs at least 2 channels to couple, found event_shape "
                f"{list(self.event_shape)}"
            )
        self.condition_shape = self._check_condition_shape(condition_shape)
        if not isinstance(learned_prior, bool):
            raise TypeError(
                f"Glow: learned_prior: expected a bool, found {type(learned_prior).__name__}"
            )
        if learned_prior and self.num_levels < 2:
            raise ValueError(
                f"Glow: learned_prior=True needs num_levels >= 2 (a level that splits "
                f"channels off), found num_levels={self.num_levels}"
            )
        self.learned_prior = learned_prior
        self.steps = nn.ModuleList()
        self.split_priors = nn.ModuleList()
        channels = c
        for level in range(max(self.num_levels, 1)):
            if self.num_levels > 0:
                channels *= 4
            condition_channels = self._condition_channels(level)
            self.steps.append(
                nn.ModuleList(
                    FlowStep(channels, self.hidden_channels, condition_channels, generator)
                    for _ in range(self.num_steps)
                )
            )
            if learned_prior and level < self.num_levels - 1:
                self.split_priors.append(
                    _split_prior(channels // 2, channels - channels // 2, condition_channels)
                )
            channels -= channels // 2  # the half that goes on to the next level
        self._set_base(base)

    def _check_condition_shape(self, condition_shape: object) -> torch.Size | None:
        if condition_shape is None:
            return None
        if not isinstance(condition_shape, (Sequence, torch.Size)) or isinstance(
            condition_shape, str
        ):
            raise TypeError(
                f"Glow: condition_shape: expected None, [D] or [C, H, W], found {condition_shape!r}"
            )
        sizes = list(condition_shape)
        if len(sizes) == 1:
            return torch.Size([check_count("condition_shape[0]", sizes[0], 1)])
        shape = check_image_shape("Glow", "condition_shape", sizes)
        if shape[1:] != self.event_shape[1:]:
            raise ValueError(
                f"Glow: condition_shape: a condition map must have the image's height and "
                f"width {list(self.event_shape[1:])}, found condition_shape {list(shape)}"
            )
        return shape

    def _condition_channels(self, level: int) -> int:
        if self.condition_shape is None:
            return 0
        if len(self.condition_shape) == 1:
            return self.condition_shape[0]
        return self.condition_shape[0] * 4 ** (level + 1 if self.num_levels > 0 else 0)

    def _set_base(self, base: Distribution | None) -> None:
        self.register_buffer("_base_loc", torch.zeros(()))
        self.register_buffer("_base_scale", torch.ones(()))
        if base is None:
            self.base = None
            return
        if not isinstance(base, Distribution):
            raise TypeError(
                f"Glow: base: expected a torch.distributions.Distribution, found "
                f"{type(base).__name__}"
            )
        if base.event_shape != self.event_shape or base.batch_shape != torch.Size():
            raise ValueError(
                f"Glow: base: expected event_shape {list(self.event_shape)} and "
                f"batch_shape [], found event_shape {list(base.event_shape)} and "
                f"batch_shape {list(base.batch_shape)}"
            )
        self.base = base

    @property
    def base_distribution(self) -> Distribution:
        """The distribution of the latent ``z`` (event shape ``[C, H, W]``)."""
        if self.base is not None:
            return self.base
        loc = self._base_loc.expand(self.event_shape)
        return Independent(Normal(loc, self._base_scale.expand(self.event_shape)), 3)

    def _base_log_prob(self, z: Tensor) -> Tensor:
        if self.base is not None:
            return self.base.log_prob(z)
        u = (z - self._base_loc) / self._base_scale
        numel = self.event_shape.numel()
        return -0.5 * u.pow(2).flatten(-3).sum(-1) - numel * (
            0.5 * LOG_2PI + torch.log(self._base_scale)
        )

    # -- conditions -------------------------------------------------------------------

    def _check_condition(self, condition: object, owner: str) -> Tensor | None:
        if self.condition_shape is None:
            if condition is not None:
                raise ValueError(
                    f"{owner}: condition: this Glow was built without condition_shape, so "
                    f"it takes no condition; found a {type(condition).__name__}"
                )
            return None
        if condition is None:
            raise ValueError(
                f"{owner}: condition: this Glow was built with condition_shape="
                f"{list(self.condition_shape)}; expected a tensor of shape [..., "
                f"{', '.join(map(str, self.condition_shape))}], found None"
            )
        if not isinstance(condition, Tensor):
            raise TypeError(
                f"{owner}: condition: expected a torch.Tensor, found {type(condition).__name__}"
            )
        n = len(self.condition_shape)
        if condition.dim() < n or condition.shape[condition.dim() - n :] != self.condition_shape:
            raise ValueError(
                f"{owner}: condition: expected a shape ending in condition_shape "
                f"{tuple(self.condition_shape)}, found shape {tuple(condition.shape)}"
            )
        if not condition.is_floating_point():
            condition = condition.to(self._base_loc.dtype)
        if not bool(torch.isfinite(condition).all()):
            raise ValueError(
                f"{owner}: condition: expected finite values, found non-finite ones in a "
                f"tensor of shape {tuple(condition.shape)}"
            )
        return condition

    def _condition_maps(self, condition: Tensor | None) -> list[Tensor | None]:
        """The condition at each level, ``[N, C_l, H_l, W_l]``."""
        levels = max(self.num_levels, 1)
        if condition is None:
            return [None] * levels
        assert self.condition_shape is not None
        _, h, w = self.event_shape
        maps = []
        if len(self.condition_shape) == 1:
            for level in range(levels):
                scale = 2 ** (level + 1) if self.num_levels > 0 else 1
                size = (h // scale, w // scale)
                maps.append(condition[:, :, None, None].expand(-1, -1, *size))
            return maps
        current = condition
        for _ in range(levels):
            if self.num_levels > 0:
                current = squeeze(current)
            maps.append(current)
        return maps

    # -- the flow ---------------------------------------------------------------------

    def _normalize(self, x: Tensor, maps: list[Tensor | None], level: int) -> tuple[Tensor, Tensor]:
        h = squeeze(x) if self.num_levels > 0 else x
        total = h.new_zeros(h.shape[0])
        for step in self.steps[level]:
            h, log_det = step.normalize(h, maps[level])
            total = total + log_det
        if level < len(self.steps) - 1:
            half = h.shape[1] // 2
            out, on = h[:, :half], h[:, half:]
            if self.learned_prior:
                loc, log_scale = self._split_prior(on, maps, level)
                out = (out - loc) * torch.exp(-log_scale)
                total = total - log_scale.flatten(1).sum(1)
            rest, log_det = self._normalize(on, maps, level + 1)
            h = torch.cat([out, rest], dim=1)
            total = total + log_det
        return (unsqueeze(h) if self.num_levels > 0 else h), total

    def _split_prior(
        self, on: Tensor, maps: list[Tensor | None], level: int
    ) -> tuple[Tensor, Tensor]:
        """Mean and log-scale of the half factored out at ``level``, given the half ``on``."""
        features = on if maps[level] is None else torch.cat([on, maps[level]], dim=1)
        loc, log_scale = self.split_priors[level](features).chunk(2, dim=1)
        return loc, log_scale

    def _generate(self, z: Tensor, maps: list[Tensor | None], level: int) -> tuple[Tensor, Tensor]:
        h = squeeze(z) if self.num_levels > 0 else z
        total = h.new_zeros(h.shape[0])
        if level < len(self.steps) - 1:
            half = h.shape[1] // 2
            out = h[:, :half]
            on, log_det = self._generate(h[:, half:], maps, level + 1)
            total = total + log_det
            if self.learned_prior:
                loc, log_scale = self._split_prior(on, maps, level)
                out = out * torch.exp(log_scale) + loc
                total = total + log_scale.flatten(1).sum(1)
            h = torch.cat([out, on], dim=1)
        for step in reversed(self.steps[level]):
            h, log_det = step.generate(h, maps[level])
            total = total + log_det
        return (unsqueeze(h) if self.num_levels > 0 else h), total

    def _prepare(
        self, x: Tensor, condition: object, owner: str
    ) -> tuple[Tensor, list[Tensor | None], torch.Size]:
        x = check_image(owner, "x", x, self.event_shape)
        cond = self._check_condition(condition, owner)
        if cond is None:
            batch = x.shape[:-3]
            return x.reshape(-1, *self.event_shape), self._condition_maps(None), batch
        assert self.condition_shape is not None
        batch = broadcast_condition_batch(
            x.shape, self.event_shape, cond.shape, self.condition_shape, owner=owner
        )
        flat_x = x.expand(*batch, *self.event_shape).reshape(-1, *self.event_shape)
        flat_c = cond.to(x.dtype).expand(*batch, *self.condition_shape)
        flat_c = flat_c.reshape(-1, *self.condition_shape)
        return flat_x, self._condition_maps(flat_c), batch

    def normalize(self, x: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Data to latent: ``(z, log|det dz/dx|)``, ``z`` shaped like ``x`` (broadcast).

        Raises:
            ValueError: If ``x`` or ``condition`` has the wrong shape or non-finite values.
        """
        flat, maps, batch = self._prepare(x, condition, "Glow.normalize")
        z, log_det = self._normalize(flat, maps, 0)
        return z.reshape(*batch, *self.event_shape), log_det.reshape(batch)

    def generate(self, z: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Latent to data: ``(x, log|det dx/dz|)``, the inverse of :meth:`normalize`."""
        flat, maps, batch = self._prepare(z, condition, "Glow.generate")
        x, log_det = self._generate(flat, maps, 0)
        return x.reshape(*batch, *self.event_shape), log_det.reshape(batch)

    def log_prob(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """The exact log-density of ``x`` (``[..., C, H, W]``), shape ``[...]``.

        Raises:
            TypeError: If ``x`` is not a floating-point tensor.
            ValueError: If ``x``'s shape does not end in ``event_shape``, it holds NaN
                or inf, or ``condition`` is missing, unexpected or misshapen.
        """
        flat, maps, batch = self._prepare(x, condition, "Glow.log_prob")
        z, log_det = self._normalize(flat, maps, 0)
        return (self._base_log_prob(z) + log_det).reshape(batch)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Same as :meth:`log_prob` (so DDP and hooks see the module called)."""
        return self.log_prob(x, condition)

    def _draw_latent(
        self, shape: torch.Size, generator: torch.Generator | None, temperature: float
    ) -> Tensor:
        if self.base is not None:
            if generator is not None:
                raise ValueError(
                    "Glow.sample: generator: a user base distribution draws with torch's "
                    "global generator; pass generator=None"
                )
            return self.base.rsample(shape) * temperature
        noise = torch.randn(
            (*shape, *self.event_shape),
            generator=generator,
            dtype=self._base_loc.dtype,
            device=self._base_loc.device,
        )
        return self._base_loc + self._base_scale * temperature * noise

    def rsample_and_log_prob(
        self,
        sample_shape: Sequence[int] = (),
        condition: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor]:
        """A reparameterised sample and its exact ``log_prob``, in one pass.

        Returns:
            ``(x, log_prob)``, shaped ``sample_shape + condition batch + [C, H, W]`` and
            ``sample_shape + condition batch``.
        """
        shape, maps = self._sample_setup(sample_shape, condition, "Glow.rsample")
        z = self._draw_latent(shape, generator, 1.0).reshape(-1, *self.event_shape)
        log_base = self._base_log_prob(z)
        x, log_det = self._generate(z, maps, 0)
        return x.reshape(*shape, *self.event_shape), (log_base - log_det).reshape(shape)

    def _sample_setup(
        self, sample_shape: Sequence[int], condition: object, owner: str
    ) -> tuple[torch.Size, list[Tensor | None]]:
        sample_shape = check_sample_shape(sample_shape)
        cond = self._check_condition(condition, owner)
        if cond is None:
            return sample_shape, self._condition_maps(None)
        assert self.condition_shape is not None
        batch = cond.shape[: cond.dim() - len(self.condition_shape)]
        shape = torch.Size([*sample_shape, *batch])
        flat = cond.to(self._base_loc.dtype).expand(*shape, *self.condition_shape)
        return shape, self._condition_maps(flat.reshape(-1, *self.condition_shape))

    @keyword_only_from(3, ("generator",))
    def rsample(
        self,
        sample_shape: Sequence[int] = (),
        condition: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
    ) -> Tensor:
        """Reparameterised samples ``sample_shape + condition batch + [C, H, W]``.

        Args:
            sample_shape: Leading sample dims.
            condition: The condition (required iff built with ``condition_shape``).
            generator: Draws the latent noise (default base only); a keyword (passing it
                positionally still works, with a DeprecationWarning).
            temperature: Multiplies the latent noise (Glow's sampling temperature;
                1 is the model itself).
        """
        shape, maps = self._sample_setup(sample_shape, condition, "Glow.rsample")
        z = self._draw_latent(shape, generator, float(temperature))
        x, _ = self._generate(z.reshape(-1, *self.event_shape), maps, 0)
        return x.reshape(*shape, *self.event_shape)

    @keyword_only_from(3, ("generator",))
    def sample(
        self,
        sample_shape: Sequence[int] = (),
        condition: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
    ) -> Tensor:
        """Samples without gradient; see :meth:`rsample`."""
        with torch.no_grad():
            return self.rsample(
                sample_shape, condition, generator=generator, temperature=temperature
            )


def _split_prior(out_channels: int, on_channels: int, condition_channels: int) -> nn.Conv2d:
    """A 3x3 convolution from the half that goes on (and the condition) to the mean and
    log-scale of the half split off, zero so that it starts as the standard normal."""
    conv = nn.Conv2d(on_channels + condition_channels, 2 * out_channels, 3, padding=1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv
