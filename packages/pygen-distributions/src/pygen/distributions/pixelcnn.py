r"""Gated PixelCNN distributions over images: binary, quantized and 8-bit.

Each class is an ``nn.Module`` and a distribution over images of ``event_shape =
[C, H, W]``: the joint probability factorises in raster order (rows, then columns,
then the channels of a pixel),

.. math:: p(x) = \prod_{i, j} \prod_{c} p(x_{c,i,j} \mid x_{<(i,j)},\, x_{<c,\,i,j}),

each factor computed by one pass of a gated PixelCNN (van den Oord et al. 2016,
"Conditional Image Generation with PixelCNN Decoders") with vertical and horizontal
stacks (no blind spot) and channel-group masks (channel ``c`` of a pixel sees channels
``< c`` of that pixel). ``log_prob`` is therefore exactly normalised. An optional
conditioning vector (``condition_size``, for example a one-hot label) adds a learned
per-layer bias to every gate; an optional conditioning *map* (``condition_channels``: a
``[C_cond, H, W]`` tensor, e.g. a VAE decoder's features, a low-resolution image or a
segmentation) adds a learned per-layer, per-position bias, so every pixel is conditioned
on its own features (van den Oord et al. 2016, location-dependent conditioning). Either
way ``log_prob(x, condition)`` is a conditional model, exactly normalised for every
condition. ``dropout_p`` adds dropout on every gated output, active in training mode only.

Sampling is sequential. The default ``method="fast"`` caches every layer's activations
(after Ramachandran et al. 2017, "Fast Generation for Convolutional Autoregressive
Models"): the vertical stack advances one row at a time and each new pixel runs the
horizontal stack at that position only, ``O(depth)`` work per pixel. ``method="naive"``
runs the whole network once per sub-pixel and is kept as the reference. Both turn the
same uniforms, drawn up front from ``generator``, into values by the inverse cdf, so they
return the same images for the same seed (up to floating-point rounding of the network
outputs: in float64 they agree exactly).

:meth:`~_PixelCNNBase.complete` fills in the unobserved sub-pixels of given images on the
same two paths, and ``temperature=`` sharpens (``< 1``) or flattens (``> 1``) every
per-sub-pixel distribution when sampling or completing; each class documents what the
temperature does to its head.
"""

from __future__ import annotations

import abc
import numbers
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pygen.distributions._autoregressive import AutoregressiveModel, SampleMethod, draw_noise
from pygen.distributions._completion import FlatBatch, check_condition_map
from pygen.distributions._discretized import snap_to_grid
from pygen.distributions._pixelcnn_network import GatedPixelCNNNetwork
from pygen.distributions._pixelcnn_sampling import fast_sample, naive_sample
from pygen.distributions._validation import broadcast_condition_batch, check_condition
from pygen.distributions.discretized_logistic_mixture import DiscretizedLogisticMixture
from pygen.distributions.quantized_distribution import QuantizedDistribution

__all__ = [
    "PixelCNNBernoulliDistribution",
    "PixelCNNLogisticMixtureDistribution",
    "PixelCNNQuantizedDistribution",
]


def _check_int(name: str, value: object, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an int, found {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, found {value}")
    return int(value)


def _check_event_shape(event_shape: object) -> torch.Size:
    if not isinstance(event_shape, (Sequence, torch.Size)) or isinstance(event_shape, str):
        raise TypeError(
            "event_shape: expected a sequence [C, H, W] of ints, "
            f"found {type(event_shape).__name__}"
        )
    dims = list(event_shape)
    if len(dims) != 3:
        raise ValueError(
            f"event_shape: expected 3 dims [C, H, W] (channel first), found {len(dims)} dims {dims}"
        )
    for dim in dims:
        if not isinstance(dim, numbers.Integral) or isinstance(dim, bool) or dim < 1:
            raise ValueError(f"event_shape: expected positive ints [C, H, W], found {dims}")
    return torch.Size(int(d) for d in dims)


class _PixelCNNBase(AutoregressiveModel, nn.Module):
    """Shared shape handling, ``log_prob`` and generation of the PixelCNN distributions.

    :meth:`sample` and :meth:`complete` are the autoregressive contract shared with MADE
    and MAF (``pygen.distributions._autoregressive``), on the PixelCNN's raster order
    (rows, columns, then the channels of a pixel). A completion is exact sampling from
    ``p(rest | observed)`` when the observed sub-pixels are a *prefix* of that order in
    every image (the top rows, then the left part of a row, then the first channels of a
    pixel); for any other mask it is the model's autoregressive in-filling (evidence
    *after* an unobserved sub-pixel is not taken into account when it is drawn).
    Sub-pixels observed in the whole batch cost no network work. ``sample``'s old
    positional ``method, generator`` (third and fourth arguments) still work, with a
    DeprecationWarning.

    A subclass defines the per-sub-pixel distribution through ``_params_per_subpixel``,
    ``_uniforms_per_subpixel``, ``_check_support``, ``_to_input``,
    ``_subpixel_log_prob`` and ``_draw``.

    Example:
        >>> import torch
        >>> from pygen.distributions import PixelCNNBernoulliDistribution
        >>> model = PixelCNNBernoulliDistribution([1, 4, 4], hidden_channels=8, num_layers=2)
        >>> images = torch.ones(2, 1, 4, 4)
        >>> top_half = torch.zeros(1, 4, 4, dtype=torch.bool)
        >>> top_half[:, :2] = True
        >>> out = model.complete(images, top_half, (3,), temperature=0.8)
        >>> out.shape, bool((out[..., :2, :] == 1).all())
        (torch.Size([3, 2, 1, 4, 4]), True)
    """

    _legacy_sample_positional = ("method", "generator")
    _params_per_subpixel: int
    _uniforms_per_subpixel: int

    def __init__(
        self,
        event_shape: Sequence[int],
        params_per_subpixel: int,
        hidden_channels: int,
        num_layers: int,
        kernel_size: int,
        condition_size: int | None,
        condition_channels: int | None = None,
        dropout_p: float = 0.0,
    ) -> None:
        super().__init__()
        self._event_shape = _check_event_shape(event_shape)
        channels = self._event_shape[0]
        hidden_channels = _check_int("hidden_channels", hidden_channels, 1)
        if hidden_channels < channels:
            raise ValueError(
                f"hidden_channels: expected at least one feature per image channel "
                f"(>= C = {channels}), found {hidden_channels}"
            )
        num_layers = _check_int("num_layers", num_layers, 1)
        kernel_size = _check_int("kernel_size", kernel_size, 3)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size: expected an odd int >= 3, found {kernel_size}")
        if condition_size is not None:
            condition_size = _check_int("condition_size", condition_size, 1)
        if condition_channels is not None:
            condition_channels = _check_int("condition_channels", condition_channels, 1)
            if condition_size is not None:
                raise ValueError(
                    "condition_size and condition_channels: expected at most one (a vector or "
                    f"a map), found condition_size={condition_size} and "
                    f"condition_channels={condition_channels}"
                )
        if not isinstance(dropout_p, numbers.Real) or isinstance(dropout_p, bool):
            raise TypeError(f"dropout_p: expected a float, found {type(dropout_p).__name__}")
        if not 0.0 <= dropout_p < 1.0:
            raise ValueError(f"dropout_p: expected a float in [0, 1), found {dropout_p}")
        self._params_per_subpixel = params_per_subpixel
        self.network = GatedPixelCNNNetwork(
            channels,
            params_per_subpixel,
            hidden_channels,
            num_layers,
            kernel_size,
            condition_size,
            condition_channels,
            float(dropout_p),
        )

    # ------------------------------------------------------------------ shapes

    @property
    def event_shape(self) -> torch.Size:
        """The image shape ``[C, H, W]``."""
        return self._event_shape

    @property
    def batch_shape(self) -> torch.Size:
        """``torch.Size([])``: one distribution over images (a condition adds batch dims)."""
        return torch.Size()

    @property
    def condition_size(self) -> int | None:
        """Length of the conditioning vector, or ``None`` (unconditional or map-conditioned)."""
        return self.network.condition_size

    @property
    def condition_shape(self) -> torch.Size | None:
        """Shape of one condition: ``[D]`` (a vector), ``[C_cond, H, W]`` (a map) or ``None``."""
        if self.network.condition_channels is not None:
            return torch.Size([self.network.condition_channels, *self._event_shape[1:]])
        if self.network.condition_size is not None:
            return torch.Size([self.network.condition_size])
        return None

    def _param_like(self) -> Tensor:
        return self.network.head_out.weight

    def _check_value(self, x: object) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"x: expected a torch.Tensor, found {type(x).__name__}")
        expected = tuple(self._event_shape)
        if x.dim() < 3 or tuple(x.shape[-3:]) != expected:
            hint = ""
            if (
                x.dim() >= 2
                and tuple(x.shape[-2:]) == expected[1:]
                and (x.dim() == 2 or x.shape[-3] != expected[0])
            ):
                hint = " (missing channel dimension? images are channel-first [..., C, H, W])"
            raise ValueError(
                f"x: expected shape [..., {expected[0]}, {expected[1]}, {expected[2]}] "
                f"(batch dims + event_shape {expected}), found shape {tuple(x.shape)}{hint}"
            )
        if x.is_complex():
            raise TypeError(f"x: expected a real tensor, found dtype {x.dtype}")
        x = x.to(self._param_like().dtype)
        self._check_support(x)
        return x

    def _check_condition(self, condition: object) -> Tensor | None:
        """Validate ``condition`` (``[..., *condition_shape]`` or None), in the model's dtype."""
        dtype = self._param_like().dtype
        if self.network.condition_channels is not None:
            return check_condition_map(condition, self.condition_shape, dtype)
        return check_condition(condition, self.condition_size, dtype)

    # ---------------------------------------------------------------- log_prob

    def _subpixel_log_probs(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Log-probability of every sub-pixel given its past, shaped like ``x``.

        ``x`` and ``condition`` must be validated and broadcast already.
        """
        batch_shape = x.shape[:-3]
        flat = x.reshape((-1, *self._event_shape))
        flat_condition = None
        if condition is not None:
            cond_shape = self.condition_shape
            flat_condition = condition.reshape(-1, *cond_shape)
        params = self.network(self._to_input(flat), flat_condition)  # [B, C, P, H, W]
        log_probs = self._subpixel_log_prob(params.permute(0, 1, 3, 4, 2), flat)
        return log_probs.reshape(*batch_shape, *self._event_shape)

    def log_prob(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Log-likelihood of images ``x``.

        Args:
            x: Images of shape ``[..., C, H, W]`` in the support of the model.
            condition: For a model built with ``condition_size = D``: conditioning
                vectors ``[..., D]``; with ``condition_channels = C_cond``: maps
                ``[..., C_cond, H, W]``. Their batch dims broadcast with those of ``x``.

        Returns:
            The log-likelihood (nats per image), shaped like the broadcast batch dims.

        Raises:
            TypeError: If ``x`` or ``condition`` is not a tensor.
            ValueError: If ``x`` does not end in ``event_shape`` (the message shows
                both shapes), has values outside the support, or ``condition`` is
                missing, unexpected, of the wrong size or does not broadcast, or ``x`` or
                ``condition`` has a stray 1 that would broadcast ``N`` images against ``N``
                conditions (``[N, 1, ...]`` against ``[N, ...]``).
        """
        x = self._check_value(x)
        condition = self._check_condition(condition)
        if condition is not None:
            cond_shape = self.condition_shape
            batch = broadcast_condition_batch(
                x.shape, self._event_shape, condition.shape, cond_shape
            )
            x = x.expand(*batch, *self._event_shape)
            condition = condition.expand(*batch, *cond_shape)
        return self._subpixel_log_probs(x, condition).sum(dim=(-3, -2, -1))

    def forward(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Same as :meth:`log_prob` (so the module can be called directly)."""
        return self.log_prob(x, condition)

    # ------------------------------------------------------------------ sample
    # sample and complete come from AutoregressiveModel (one contract with MADE and MAF);
    # this is the PixelCNN's generation step.

    def _reference_tensor(self) -> Tensor:
        return self._param_like()

    def _condition_ndim(self) -> int:
        shape = self.condition_shape
        return 1 if shape is None else len(shape)

    def _generate_flat(
        self,
        flat: FlatBatch,
        *,
        temperature: float,
        method: SampleMethod | None,
        generator: torch.Generator | None,
    ) -> Tensor:
        uniform_shape = (flat.count, *self._event_shape, self._uniforms_per_subpixel)
        uniforms = draw_noise(uniform_shape, generator, self._param_like())
        sampler = naive_sample if method == "naive" else fast_sample

        def draw(params: Tensor, u: Tensor) -> Tensor:
            return self._draw(params, u, temperature)

        return sampler(
            self.network, uniforms, flat.condition, self._to_input, draw, flat.observed, flat.mask
        )

    # ------------------------------------------------------- per-sub-pixel hooks

    @abc.abstractmethod
    def _check_support(self, x: Tensor) -> None:
        """Raise ``ValueError`` if a value of ``x`` is outside the support."""

    @abc.abstractmethod
    def _to_input(self, x: Tensor) -> Tensor:
        """Map image values (elementwise) to the network input."""

    @abc.abstractmethod
    def _subpixel_log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        """Log-probability of ``x`` ``[...]`` given its parameters ``[..., P]``."""

    @abc.abstractmethod
    def _draw(self, params: Tensor, uniforms: Tensor, temperature: float = 1.0) -> Tensor:
        """Inverse cdf: values ``[N]`` from parameters ``[N, P]`` and uniforms ``[N, R]``.

        ``temperature`` (positive) tempers the per-sub-pixel distribution; 1 is the model.
        """


def _check_unit_interval(x: Tensor, name: str) -> None:
    bad = ~((x >= 0) & (x <= 1))
    if bool(bad.any()):
        found = x[bad][0].item()
        raise ValueError(
            f"x: expected values in [0, 1] for {name}, found {found} "
            f"(x.min()={x.min().item()}, x.max()={x.max().item()})"
        )


class PixelCNNBernoulliDistribution(_PixelCNNBase):
    """Gated PixelCNN over binary images: a Bernoulli per sub-pixel.

    ``temperature=T`` in :meth:`sample` and :meth:`complete` divides every sub-pixel's
    logit by ``T``; as ``T -> 0`` each sub-pixel becomes its most probable value (greedy
    decoding).

    Args:
        event_shape: Image shape ``[C, H, W]`` (channel first), e.g. ``[1, 28, 28]``.
        hidden_channels: Width of the vertical and horizontal stacks (``>= C``).
        num_layers: Number of gated layers. With the default kernel the receptive field
            grows by two rows and two columns per layer: 8 layers cover 28x28 and 32x32
            images well.
        kernel_size: Odd kernel size ``k``; the vertical stack uses ``(k//2+1) x k``
            kernels, the horizontal stack ``1 x (k//2+1)``.
        condition_size: Length ``D`` of an optional conditioning vector; ``None`` (the
            default) builds an unconditional model.
        condition_channels: Channels ``C_cond`` of an optional conditioning map
            ``[C_cond, H, W]`` (the image's ``H, W``), read at every pixel through a 1x1
            convolution; at most one of ``condition_size`` and ``condition_channels``.
        dropout_p: Dropout probability on every gated output, in ``[0, 1)``; active in
            training mode only (never in ``sample``, ``complete`` or eval mode).

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If ``event_shape`` is not ``[C, H, W]`` with positive sizes, or a size
            argument is out of range.

    Example:
        >>> import torch
        >>> from pygen.distributions import PixelCNNBernoulliDistribution
        >>> model = PixelCNNBernoulliDistribution([1, 4, 4], hidden_channels=8, num_layers=2)
        >>> x = model.sample((3,), generator=torch.Generator().manual_seed(0))
        >>> x.shape, model.log_prob(x).shape
        (torch.Size([3, 1, 4, 4]), torch.Size([3]))
        >>> naive = model.sample((3,), method="naive", generator=torch.Generator().manual_seed(0))
        >>> bool(torch.equal(x, naive))
        True
    """

    _uniforms_per_subpixel = 1

    def __init__(
        self,
        event_shape: Sequence[int] = (1, 28, 28),
        hidden_channels: int = 64,
        num_layers: int = 8,
        kernel_size: int = 5,
        condition_size: int | None = None,
        *,
        condition_channels: int | None = None,
        dropout_p: float = 0.0,
    ) -> None:
        super().__init__(
            event_shape,
            1,
            hidden_channels,
            num_layers,
            kernel_size,
            condition_size,
            condition_channels,
            dropout_p,
        )

    def _check_support(self, x: Tensor) -> None:
        bad = (x != 0) & (x != 1)
        if bool(bad.any()):
            raise ValueError(
                "x: expected binary values (0 or 1) for PixelCNNBernoulliDistribution, found "
                f"{x[bad][0].item()}; binarize grey-level images first (e.g. x > 0.5)"
            )

    def _to_input(self, x: Tensor) -> Tensor:
        return 2.0 * x - 1.0

    def _subpixel_log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        return -F.binary_cross_entropy_with_logits(params[..., 0], x, reduction="none")

    def _draw(self, params: Tensor, uniforms: Tensor, temperature: float = 1.0) -> Tensor:
        logits = params[:, 0] if temperature == 1.0 else params[:, 0] / temperature
        return (uniforms[:, 0] < torch.sigmoid(logits)).to(params.dtype)


class PixelCNNQuantizedDistribution(_PixelCNNBase):
    """Gated PixelCNN over images in [0, 1]: a quantized distribution per sub-pixel.

    Each sub-pixel follows :class:`~pygen.distributions.QuantizedDistribution`: a
    categorical over ``num_buckets`` equal buckets of [0, 1] (bucket ``k`` is
    ``[k/K, (k+1)/K)``, ``x = 1`` in the top one), uniform inside its bucket. As for
    ``QuantizedDistribution`` (and pygen's original), ``log_prob`` is the log probability
    *mass* of the image's buckets; add ``C * H * W * log(num_buckets)`` for the log density.
    The network sees only each earlier sub-pixel's bucket (its centre), so the model is
    exactly normalised over bucket configurations. Samples are uniform inside the drawn
    bucket (two uniforms per sub-pixel). ``temperature=T`` divides the bucket logits by
    ``T`` (the value inside the bucket stays uniform); as ``T -> 0`` the most probable
    bucket is always drawn.

    Args:
        event_shape: Image shape ``[C, H, W]`` (channel first), e.g. ``[3, 32, 32]``.
        num_buckets: Number ``K >= 2`` of equal buckets of [0, 1].
        hidden_channels: Width of the stacks (``>= C``).
        num_layers: Number of gated layers.
        kernel_size: Odd kernel size (see :class:`PixelCNNBernoulliDistribution`).
        condition_size: Length ``D`` of an optional conditioning vector, or ``None``.
        condition_channels: Channels of an optional conditioning map (see
            :class:`PixelCNNBernoulliDistribution`).
        dropout_p: Dropout probability (see :class:`PixelCNNBernoulliDistribution`).

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If ``event_shape`` is not ``[C, H, W]``, ``num_buckets < 2`` or a
            size argument is out of range.

    Example:
        >>> import torch
        >>> from pygen.distributions import PixelCNNQuantizedDistribution
        >>> model = PixelCNNQuantizedDistribution(
        ...     [3, 4, 4], num_buckets=4, hidden_channels=6, num_layers=2
        ... )
        >>> x = model.sample((2,))
        >>> x.shape, bool(((x >= 0) & (x <= 1)).all()), model.log_prob(x).shape
        (torch.Size([2, 3, 4, 4]), True, torch.Size([2]))
    """

    _uniforms_per_subpixel = 2

    def __init__(
        self,
        event_shape: Sequence[int] = (3, 32, 32),
        num_buckets: int = 8,
        hidden_channels: int = 64,
        num_layers: int = 8,
        kernel_size: int = 5,
        condition_size: int | None = None,
        *,
        condition_channels: int | None = None,
        dropout_p: float = 0.0,
    ) -> None:
        self.num_buckets = _check_int("num_buckets", num_buckets, 2)
        super().__init__(
            event_shape,
            self.num_buckets,
            hidden_channels,
            num_layers,
            kernel_size,
            condition_size,
            condition_channels,
            dropout_p,
        )

    def _bucket(self, x: Tensor) -> Tensor:
        # The bucket rule of QuantizedDistribution.bucket, as a float tensor.
        return torch.floor(x * self.num_buckets).clamp(0, self.num_buckets - 1)

    def _check_support(self, x: Tensor) -> None:
        _check_unit_interval(x, "PixelCNNQuantizedDistribution")

    def _to_input(self, x: Tensor) -> Tensor:
        return (2.0 * self._bucket(x) + 1.0) / self.num_buckets - 1.0

    def _subpixel_log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        return QuantizedDistribution(params, validate_args=False).log_prob(x)

    def _draw(self, params: Tensor, uniforms: Tensor, temperature: float = 1.0) -> Tensor:
        k = self.num_buckets
        logits = params if temperature == 1.0 else params / temperature
        cdf = torch.softmax(logits, dim=-1).cumsum(dim=-1)
        bucket = (cdf[:, :-1] <= uniforms[:, :1] * cdf[:, -1:]).sum(dim=-1).to(params.dtype)
        value = (bucket + uniforms[:, 1]) / k
        # Rounding may push (bucket + u) / K onto the next bucket's edge: keep the centre.
        return torch.where(self._bucket(value) == bucket, value, (bucket + 0.5) / k)


class PixelCNNLogisticMixtureDistribution(_PixelCNNBase):
    """Gated PixelCNN over 8-bit images: a discretized logistic mixture per sub-pixel.

    Each sub-pixel follows :class:`~pygen.distributions.DiscretizedLogisticMixture`
    (PixelCNN++, Salimans et al. 2017) on the grid ``k / (num_bins - 1)`` of [0, 1]
    (``x = pixel / 255`` for 8-bit images), the end bins taking the tails. The network
    gives ``num_mixtures`` logits, locations and log-scales per sub-pixel; channel ``c``
    is conditioned on channels ``< c`` of the same pixel by the masks (rather than by
    PixelCNN++'s linear coupling of the means). ``log_prob`` is a log probability mass;
    values off the grid are scored at the grid point of their bin. ``temperature=T``
    divides the mixture logits by ``T`` and multiplies every logistic scale by ``T``
    (locations unchanged); as ``T -> 0`` a sub-pixel becomes the grid point nearest the
    location of its most probable component.

    Args:
        event_shape: Image shape ``[C, H, W]`` (channel first), e.g. ``[3, 32, 32]``.
        num_mixtures: Number of logistic components per sub-pixel.
        num_bins: Number of grid points of [0, 1] (256 for 8-bit images).
        hidden_channels: Width of the stacks (``>= C``).
        num_layers: Number of gated layers.
        kernel_size: Odd kernel size (see :class:`PixelCNNBernoulliDistribution`).
        condition_size: Length ``D`` of an optional conditioning vector, or ``None``.
        condition_channels: Channels of an optional conditioning map (see
            :class:`PixelCNNBernoulliDistribution`).
        dropout_p: Dropout probability (see :class:`PixelCNNBernoulliDistribution`).

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If ``event_shape`` is not ``[C, H, W]``, ``num_mixtures < 1``,
            ``num_bins < 2`` or a size argument is out of range.

    Example:
        >>> import torch
        >>> from pygen.distributions import PixelCNNLogisticMixtureDistribution
        >>> model = PixelCNNLogisticMixtureDistribution(
        ...     [3, 4, 4], num_mixtures=2, hidden_channels=6, num_layers=2
        ... )
        >>> x = model.sample((2,))
        >>> x.shape, bool(torch.equal(x * 255, (x * 255).round())), model.log_prob(x).shape
        (torch.Size([2, 3, 4, 4]), True, torch.Size([2]))
    """

    _uniforms_per_subpixel = 2

    def __init__(
        self,
        event_shape: Sequence[int] = (3, 32, 32),
        num_mixtures: int = 5,
        num_bins: int = 256,
        hidden_channels: int = 64,
        num_layers: int = 8,
        kernel_size: int = 5,
        condition_size: int | None = None,
        *,
        condition_channels: int | None = None,
        dropout_p: float = 0.0,
    ) -> None:
        self.num_mixtures = _check_int("num_mixtures", num_mixtures, 1)
        self.num_bins = _check_int("num_bins", num_bins, 2)
        super().__init__(
            event_shape,
            3 * self.num_mixtures,
            hidden_channels,
            num_layers,
            kernel_size,
            condition_size,
            condition_channels,
            dropout_p,
        )

    def _split(self, params: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        logits, loc, log_scale = params.chunk(3, dim=-1)
        return logits, loc, torch.exp(log_scale.clamp(min=-7.0))

    def _check_support(self, x: Tensor) -> None:
        _check_unit_interval(x, "PixelCNNLogisticMixtureDistribution")

    def _to_input(self, x: Tensor) -> Tensor:
        return 2.0 * snap_to_grid(x, self.num_bins) - 1.0

    def _subpixel_log_prob(self, params: Tensor, x: Tensor) -> Tensor:
        logits, loc, scale = self._split(params)
        mixture = DiscretizedLogisticMixture(logits, loc, scale, self.num_bins, validate_args=False)
        return mixture.log_prob(x)

    def _draw(self, params: Tensor, uniforms: Tensor, temperature: float = 1.0) -> Tensor:
        logits, loc, scale = self._split(params)
        if temperature != 1.0:
            logits, scale = logits / temperature, scale * temperature
        cdf = torch.softmax(logits, dim=-1).cumsum(dim=-1)
        component = (cdf[:, :-1] <= uniforms[:, :1] * cdf[:, -1:]).sum(dim=-1, keepdim=True)
        loc = loc.gather(-1, component).squeeze(-1)
        scale = scale.gather(-1, component).squeeze(-1)
        u = uniforms[:, 1]
        continuous = loc + scale * (torch.log(u) - torch.log1p(-u))
        return snap_to_grid(continuous, self.num_bins)
