r"""A variational autoencoder built from parts: prior p(z), encoder q(z|x), decoder p(x|z).

A VAE has no exact ``log_prob``. It has lower bounds on :math:`\log p(x)`, and this
module names them as such:

.. math::

    \mathrm{ELBO}(x) = \mathbb{E}_{q(z|x)}[\log p(x|z)] - \mathrm{KL}(q(z|x)\,\|\,p(z))
    \le \log p(x),

    \mathrm{IWAE}_k(x) = \mathbb{E}\Big[\log \frac1k \sum_{i=1}^k
    \frac{p(x|z_i)\,p(z_i)}{q(z_i|x)}\Big], \quad z_i \sim q(z|x),

with :math:`\mathrm{ELBO} = \mathrm{IWAE}_1 \le \mathrm{IWAE}_k \le \mathrm{IWAE}_{k+1}
\le \log p(x)` and :math:`\mathrm{IWAE}_k \to \log p(x)` as :math:`k \to \infty` (Burda,
Grosse and Salakhutdinov 2016). Each call returns a one-sample (or ``num_samples``)
Monte Carlo estimate of these per example, in nats.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import torch
from torch import Tensor, nn
from torch.distributions import Distribution, kl_divergence
from torch.utils.checkpoint import checkpoint

from pygen.distributions._distribution_apply import apply_to_distribution
from pygen.distributions._latent import (
    check_distribution,
    check_support,
    describe_distribution,
    relax,
)
from pygen.distributions._validation import check_count, check_sample_shape

__all__ = ["VAE", "ELBOTerms"]

KLMethod = Literal["auto", "analytic", "monte_carlo"]
_KL_METHODS = ("auto", "analytic", "monte_carlo")


class ELBOTerms(NamedTuple):
    """The ELBO of each example and its two terms, all of shape ``[batch]``, in nats.

    Attributes:
        elbo: ``reconstruction - kl``, the evidence lower bound (a bound on
            ``log p(x)``, never the log-likelihood itself). With ``relaxed=True`` it is the
            relaxed surrogate that trains a discrete VAE, not a bound.
        reconstruction: ``E_q[log p(x|z)]``, estimated from the samples of ``z``.
        kl: ``KL(q(z|x) || p(z))``: exact when ``analytic_kl``, else a Monte Carlo estimate
            ``log q(z|x) - log p(z)`` at the same samples.
        objective: ``reconstruction - beta * kl``, what training maximises (equal to
            ``elbo`` when ``beta == 1``).
        relaxed: Whether ``z`` was drawn from the relaxation of a discrete posterior.
        analytic_kl: Whether ``kl`` is the closed form torch has registered.
    """

    elbo: Tensor
    reconstruction: Tensor
    kl: Tensor
    objective: Tensor
    relaxed: bool
    analytic_kl: bool


class VAE(nn.Module):
    r"""A variational autoencoder from a prior, an encoder layer and a decoder layer.

    The parts are duck-typed, so any pygen layer (or your own module) fits:

    - ``encoder(x)`` returns q(z|x), a distribution with ``batch_shape == [batch]``
      (e.g. ``nn.Sequential(net, pygen.layers.IndependentNormal(d))``). It must have
      ``rsample`` (reparameterisation), or be a ``Bernoulli`` / ``OneHotCategorical``
      (inside any ``Independent``) with ``temperature`` set: then training draws ``z``
      from its ``RelaxedBernoulli`` / ``RelaxedOneHotCategorical`` (Gumbel-softmax,
      Concrete) relaxation with the same logits, and evaluation uses exact discrete
      samples.
    - ``decoder(z)`` returns p(x|z), a distribution with ``batch_shape == [n]`` for
      ``n`` latent codes ``z`` of shape ``[n, *latent_event_shape]``, and
      ``event_shape == x.shape[1:]`` (e.g. ``nn.Sequential(net,
      pygen.layers.IndependentBernoulli([1, 28, 28]))``). Or a conditional distribution
      module with ``log_prob(x, condition=z)`` and ``sample(sample_shape,
      condition=z)``, such as ``PixelCNNBernoulliDistribution(condition_size=d)`` or
      ``MADE(condition_size=d)``: a PixelCNN decoder conditioned on ``z``.
    - ``prior`` is p(z): a ``torch.distributions.Distribution`` with ``batch_shape ==
      []`` (fixed), or an ``nn.Module`` (trainable, follows ``.to(device)``): either a
      distribution itself (has ``log_prob`` and ``sample``, e.g. ``MADE``) or a module
      whose ``forward()``, called with no arguments, returns the distribution. A fixed
      ``Distribution`` follows the VAE's ``.to(device)``, ``.to(dtype)``, ``.double()``,
      ``.half()``, ``.cuda()``, ``.cpu()``, ...: the VAE replaces it by a copy whose
      tensors (nested distributions and transforms included) are converted as the
      parameters are, with the same ``batch_shape``, ``event_shape`` and class, and
      leaves the distribution you passed as it was. A constant, it is not in
      ``state_dict`` (like ``beta``, it comes from the constructor). What cannot be
      converted safely is refused with a ``TypeError`` (``ValueError`` for a tensor
      that requires grad) at the conversion, saying to pass a module prior instead.

    The KL term is torch's registered closed form (``kl_divergence``) where one exists
    for the pair (encoder distribution, prior) and ``kl`` is ``"auto"`` or
    ``"analytic"``; otherwise (and always with ``kl="monte_carlo"``) it is the Monte
    Carlo estimate ``log q(z|x) - log p(z)`` at the same samples as the reconstruction
    term. Both are unbiased estimates of the same ELBO; the closed form has less variance.
    For a relaxed discrete posterior the KL is that of the discrete q (the closed form, or
    the estimate at the exact samples the relaxed ones round to), as in Jang, Gu and
    Poole (2017).

    The samples of ``z`` are flattened into the batch before the decoder runs, so
    ``num_samples`` codes of a batch of ``B`` examples make one decoder call of
    ``num_samples * B`` codes; :meth:`iwae` does this in chunks of ``chunk_size``
    samples, so ``k = 5000`` fits in memory.

    Args:
        encoder: ``x -> q(z|x)``.
        decoder: ``z -> p(x|z)``, or a conditional distribution module (see above).
        prior: p(z).
        beta: Weight of the KL term in :attr:`ELBOTerms.objective` (beta-VAE, Higgins et
            al. 2017); the reported ``elbo`` always uses weight 1.
        kl: ``"auto"`` (closed form where registered, else Monte Carlo), ``"analytic"``
            (closed form, an error where torch has none) or ``"monte_carlo"``.
        temperature: Temperature of the relaxation of a discrete posterior (None: no
            relaxation; a discrete encoder is then an error in :meth:`elbo`).
        chunk_size: How many samples of ``z`` per example :meth:`iwae` puts through the
            decoder at once.

    Raises:
        TypeError: If a part has the wrong kind, or an argument the wrong type.
        ValueError: If ``beta`` is negative, ``kl`` is not one of the choices,
            ``temperature`` is not positive or ``chunk_size < 1``.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from torch.distributions import Independent, Normal
        >>> from pygen.distributions import VAE
        >>> class Gaussian(nn.Module):  # a tiny stand-in for pygen.layers.IndependentNormal
        ...     def forward(self, params):
        ...         loc, raw_scale = params.chunk(2, dim=-1)
        ...         return Independent(Normal(loc, nn.functional.softplus(raw_scale)), 1)
        >>> encoder = nn.Sequential(nn.Linear(5, 2 * 3), Gaussian())
        >>> decoder = nn.Sequential(nn.Linear(3, 2 * 5), Gaussian())
        >>> prior = Independent(Normal(torch.zeros(3), torch.ones(3)), 1)
        >>> vae = VAE(encoder, decoder, prior)
        >>> x = torch.randn(8, 5)
        >>> terms = vae.elbo(x)
        >>> terms.elbo.shape, terms.analytic_kl
        (torch.Size([8]), True)
        >>> bool((terms.elbo <= vae.iwae(x, k=100) + 1.0).all())
        True
        >>> vae.sample((4,)).shape, vae.reconstruct(x).shape
        (torch.Size([4, 5]), torch.Size([8, 5]))
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        prior: Distribution | nn.Module,
        *,
        beta: float = 1.0,
        kl: KLMethod = "auto",
        temperature: float | None = None,
        chunk_size: int = 100,
    ) -> None:
        super().__init__()
        for name, part in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(part, nn.Module):
                raise TypeError(
                    f"{name}: expected an nn.Module (a layer returning a distribution), "
                    f"found {type(part).__name__}"
                )
        if not isinstance(prior, (Distribution, nn.Module)):
            raise TypeError(
                "prior: expected a torch.distributions.Distribution or an nn.Module, found "
                f"{type(prior).__name__}"
            )
        if isinstance(prior, Distribution) and tuple(prior.batch_shape) != ():
            raise ValueError(
                f"prior: expected batch_shape () (one distribution over z), found batch_shape "
                f"{tuple(prior.batch_shape)} and event_shape {tuple(prior.event_shape)}; wrap "
                f"it in Independent(prior, {len(prior.batch_shape)}) to move those dims into "
                "the event"
            )
        self.encoder = encoder
        self.decoder = decoder
        self.prior = prior
        self.beta = _check_beta(beta)
        if kl not in _KL_METHODS:
            raise ValueError(f"kl: expected one of {list(_KL_METHODS)}, found {kl!r}")
        self.kl = kl
        if temperature is not None:
            if not isinstance(temperature, numbers.Real) or isinstance(temperature, bool):
                raise TypeError(
                    f"temperature: expected a float or None, found {type(temperature).__name__}"
                )
            if not temperature > 0:
                raise ValueError(f"temperature: expected a positive float, found {temperature}")
            temperature = float(temperature)
        self.temperature = temperature
        self.chunk_size = check_count("chunk_size", chunk_size, 1)

    @property
    def batch_shape(self) -> torch.Size:
        """``torch.Size([])``: one model."""
        return torch.Size([])

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> VAE:
        """Convert parameters and buffers (``nn.Module``), and a fixed prior with them.

        Every module conversion (``to``, ``double``, ``half``, ``cuda``, ...) calls this
        with one tensor function ``fn``. A fixed ``Distribution`` prior is the VAE's own
        constant, like a buffer, so it is converted whatever ``recurse`` says, before
        the parameters are, so that a prior that cannot be converted leaves the VAE as
        it was.
        """
        fixed = isinstance(self.prior, Distribution) and not isinstance(self.prior, nn.Module)
        prior = apply_to_distribution(self.prior, fn, "prior") if fixed else None
        super()._apply(fn, recurse)
        if prior is not None:
            self.prior = prior
        return self

    def to_empty(self, *, device: torch.device | str | int | None, recurse: bool = True) -> VAE:
        """Move to ``device`` without copying parameters and buffers (``nn.Module``).

        Those are to be filled afterwards (``load_state_dict``, an initialiser); a fixed
        prior is not in ``state_dict``, so nothing would refill it: it keeps its values
        and is moved as ``.to(device)`` moves it (one on the meta device, which has none,
        is left empty like the rest).
        """
        prior = self.prior
        super().to_empty(device=device, recurse=recurse)
        if isinstance(prior, Distribution) and not isinstance(prior, nn.Module):

            def move(t: Tensor) -> Tensor:
                return torch.empty_like(t, device=device) if t.is_meta else t.to(device=device)

            self.prior = apply_to_distribution(prior, move, "prior")
        return self

    def extra_repr(self) -> str:
        return f"beta={self.beta}, kl={self.kl!r}, temperature={self.temperature}"

    # ------------------------------------------------------------------------- parts

    def prior_distribution(self) -> Any:
        """p(z): the prior itself, or what a prior module's ``forward()`` returns."""
        if isinstance(self.prior, Distribution) or callable(getattr(self.prior, "log_prob", None)):
            return self.prior
        prior = self.prior()
        check_distribution(prior, "prior p(z)", (), None, event_hint="")
        return prior

    def posterior(self, x: Tensor) -> Any:
        """q(z|x) for a batch ``x`` of shape ``[batch, *event_shape]``.

        Raises:
            TypeError: If ``x`` is not a tensor with a batch dimension, or the encoder
                does not return a distribution.
            ValueError: If ``x`` is an empty batch, does not end in the decoder's
                ``event_shape`` (when it declares one), or q(z|x) does not have
                ``batch_shape == [batch]``.
        """
        if not isinstance(x, Tensor) or x.dim() < 1:
            raise TypeError(
                "x: expected a tensor of shape [batch, *event_shape], found "
                + (f"shape {tuple(x.shape)}" if isinstance(x, Tensor) else type(x).__name__)
            )
        if x.shape[0] == 0:
            raise ValueError(
                f"x: expected a batch of at least one example, found shape {tuple(x.shape)}"
            )
        declared = getattr(self.decoder, "event_shape", None)
        if declared is not None and tuple(x.shape[1:]) != tuple(declared):
            raise ValueError(
                f"decoder p(x|z): expected event_shape {tuple(x.shape[1:])}, found event_shape "
                f"{tuple(declared)}; x (shape {tuple(x.shape)}) must be [batch, "
                f"*{list(declared)}], checked before encoding"
            )
        q = self.encoder(x)
        check_distribution(q, "encoder q(z|x)", (x.shape[0],), None, event_hint="")
        return q

    def _prior_for(self, q: Any) -> Any:
        prior = self.prior_distribution()
        found, wanted = tuple(getattr(prior, "event_shape", ())), tuple(q.event_shape)
        if found != wanted:
            raise ValueError(
                f"prior p(z): expected event_shape {wanted} (the event_shape of the encoder's "
                f"q(z|x), {describe_distribution(q)}), found event_shape {found}"
            )
        return prior

    def _decoder_log_prob(self, z: Tensor, x: Tensor) -> Tensor:
        """``log p(x|z)`` for codes ``z`` of shape ``[n, batch, *latent]``: ``[n, batch]``."""
        n, batch = z.shape[0], z.shape[1]
        codes = z.reshape(n * batch, *z.shape[2:])
        values = x.expand(n, *x.shape).reshape(n * batch, *x.shape[1:])
        data_event = tuple(x.shape[1:])
        hint = (
            f"the data's examples have shape {data_event} (x of shape {tuple(x.shape)}); build "
            f"the decoder's last layer with event_shape={list(data_event)}, or reshape the data"
        )
        if callable(getattr(self.decoder, "log_prob", None)):
            event = tuple(getattr(self.decoder, "event_shape", data_event))
            if event != data_event:
                raise ValueError(
                    f"decoder p(x|z): expected event_shape {data_event}, found event_shape "
                    f"{event}; {hint}"
                )
            log_prob = self.decoder.log_prob(values, condition=codes)
        else:
            p = self.decoder(codes)
            check_distribution(p, "decoder p(x|z)", (n * batch,), data_event, event_hint=hint)
            log_prob = p.log_prob(values)
        return log_prob.reshape(n, batch)

    def _kl(self, q: Any, prior: Any) -> Tensor | None:
        """The closed-form KL per example, or None where it is not used."""
        if self.kl == "monte_carlo":
            return None
        try:
            if not isinstance(prior, Distribution) or not isinstance(q, Distribution):
                raise NotImplementedError
            # Some closed forms (Bernoulli's) do not broadcast the prior themselves.
            with contextlib.suppress(NotImplementedError):
                prior = prior.expand(q.batch_shape)
            return kl_divergence(q, prior)
        except NotImplementedError:
            if self.kl == "analytic":
                raise ValueError(
                    "kl='analytic': torch has no closed-form KL registered for the pair "
                    f"({describe_distribution(q)}, {describe_distribution(prior)}); register "
                    "one with torch.distributions.kl.register_kl, or use kl='auto' or "
                    "kl='monte_carlo' (a Monte Carlo estimate)"
                ) from None
            return None

    # ------------------------------------------------------------------------- bounds

    def elbo(self, x: Tensor, *, num_samples: int = 1, relaxed: bool | None = None) -> ELBOTerms:
        """The ELBO of each example and its terms, from ``num_samples`` samples of ``z``.

        Args:
            x: A batch, ``[batch, *event_shape]``.
            num_samples: Samples of ``z`` per example; the terms are their averages.
            relaxed: For a discrete posterior, draw ``z`` from its relaxation (training)
                instead of exactly (evaluation). None: relaxed in training mode
                (``self.training``), exact in evaluation mode. Ignored for a
                reparameterisable posterior.

        Returns:
            The :class:`ELBOTerms`, each of shape ``[batch]``.

        Raises:
            TypeError: If the encoder's q(z|x) cannot be reparameterised (says which, and
                what to use instead).
            ValueError: If a part returns the wrong shapes (the decoder's event shape must
                be the data's), or ``kl='analytic'`` has no closed form.
        """
        num_samples = check_count("num_samples", num_samples, 1)
        q = self.posterior(x)
        prior = self._prior_for(q)
        relaxation = relax(q, self.temperature)
        use_relaxed = relaxation is not None and (self.training if relaxed is None else relaxed)
        if relaxation is None:
            z = q.rsample((num_samples,))
            exact = z
        elif use_relaxed:
            relaxed_q, harden = relaxation
            z = relaxed_q.rsample((num_samples,))
            exact = harden(z)
        else:
            z = exact = q.sample((num_samples,))
        check_support(prior, q, exact)
        reconstruction = self._decoder_log_prob(z, x).mean(0)
        kl = self._kl(q, prior)
        analytic = kl is not None
        if kl is None:
            kl = (q.log_prob(exact) - prior.log_prob(exact)).mean(0)
        kl = kl.to(reconstruction.dtype)
        return ELBOTerms(
            elbo=reconstruction - kl,
            reconstruction=reconstruction,
            kl=kl,
            objective=reconstruction - self.beta * kl,
            relaxed=bool(use_relaxed),
            analytic_kl=analytic,
        )

    def forward(self, x: Tensor, *, num_samples: int = 1, relaxed: bool | None = None) -> ELBOTerms:
        """:meth:`elbo` (``forward`` is what DistributedDataParallel synchronises)."""
        return self.elbo(x, num_samples=num_samples, relaxed=relaxed)

    def iwae(self, x: Tensor, k: int, *, chunk_size: int | None = None) -> Tensor:
        """The importance-weighted bound IWAE-k of each example, in nats: ``[batch]``.

        ``log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)`` for ``k`` samples ``z_i ~ q(z|x)``,
        computed in chunks of ``chunk_size`` samples, each reduced by a ``logsumexp``
        before the next is drawn, then combined by a ``logsumexp`` across chunks. A lower
        bound on ``log p(x)`` in expectation, tighter as ``k`` grows (``k = 1`` is the
        ELBO); not the log-likelihood. Discrete latents use exact samples of q (never the
        relaxation), so this bounds the discrete model. Gradients flow where q can be
        reparameterised (the IWAE training objective of Burda et al.). With gradients on
        and ``k > chunk_size``, each chunk keeps only its ``[batch]`` result and is
        recomputed, with the same random numbers, in the backward pass
        (``torch.utils.checkpoint``): memory stays that of one chunk whatever ``k``, for
        about one more forward pass of the chunks.

        Args:
            x: A batch, ``[batch, *event_shape]``.
            k: Number of importance samples per example.
            chunk_size: Samples per decoder call (default: the VAE's ``chunk_size``).

        Returns:
            IWAE-k per example.

        Raises:
            ValueError: If ``k`` or ``chunk_size`` is below 1, a part returns the
                wrong shapes, or a sample of q(z|x) lies outside the prior's support.
        """
        k = check_count("k", k, 1)
        chunk = self.chunk_size if chunk_size is None else check_count("chunk_size", chunk_size, 1)
        q = self.posterior(x)
        prior = self._prior_for(q)
        draw = q.rsample if getattr(q, "has_rsample", False) else q.sample

        def chunk_bound(x: Tensor, n: int) -> Tensor:
            z = draw((n,))
            check_support(prior, q, z)
            log_w = self._decoder_log_prob(z, x) + prior.log_prob(z) - q.log_prob(z)
            return torch.logsumexp(log_w, dim=0)

        # With gradients, each chunk keeps only its [batch] result and is recomputed
        # (same random numbers) in the backward pass: memory of one chunk, not of k.
        recompute = k > chunk and torch.is_grad_enabled()
        parts = []
        for start in range(0, k, chunk):
            n = min(chunk, k - start)
            if recompute:
                part = checkpoint(chunk_bound, x, n, use_reentrant=False, preserve_rng_state=True)
            else:
                part = chunk_bound(x, n)
            parts.append(part)
        return torch.logsumexp(torch.stack(parts), dim=0) - math.log(k)

    # ------------------------------------------------------------------------- generation

    def _decode(self, z: Tensor, mean: bool) -> Tensor:
        if callable(getattr(self.decoder, "log_prob", None)):
            return self.decoder.sample((), condition=z)
        p = self.decoder(z)
        if mean:
            try:
                return p.mean
            except NotImplementedError:
                pass
        return p.sample()

    @torch.no_grad()
    def sample(self, sample_shape: Sequence[int] = (), *, mean: bool = False) -> Tensor:
        """Draw ``z ~ p(z)`` and then ``x ~ p(x|z)``: ``sample_shape + event_shape``.

        Args:
            sample_shape: Leading shape of the samples.
            mean: Return the decoder's mean ``E[x|z]`` (e.g. Bernoulli probabilities, a
                smoother image) instead of a sample of it, where the decoder has one.

        Returns:
            The samples.
        """
        shape = check_sample_shape(sample_shape)
        prior = self.prior_distribution()
        z = prior.sample(shape)
        latent = tuple(z.shape[len(shape) :])
        x = self._decode(z.reshape(-1, *latent), mean)
        return x.reshape(*shape, *x.shape[1:])

    @torch.no_grad()
    def reconstruct(self, x: Tensor, *, mean: bool = True) -> Tensor:
        """Encode each example, draw one ``z ~ q(z|x)`` (exactly), decode it.

        Args:
            x: A batch, ``[batch, *event_shape]``.
            mean: Return the decoder's mean ``E[x|z]`` where it has one (default), else
                a sample of ``p(x|z)``.

        Returns:
            The reconstructions, shaped like ``x``.
        """
        q = self.posterior(x)
        return self._decode(q.sample(), mean).reshape(x.shape)


def _check_beta(beta: object) -> float:
    if not isinstance(beta, numbers.Real) or isinstance(beta, bool):
        raise TypeError(f"beta: expected a float, found {type(beta).__name__}")
    if not beta >= 0:
        raise ValueError(f"beta: expected a float >= 0, found {beta}")
    return float(beta)
