"""An exponential moving average of a module's parameters (Polyak averaging)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

__all__ = ["ExponentialMovingAverage"]


class ExponentialMovingAverage:
    """Keeps ``average = decay * average + (1 - decay) * parameter`` after every update.

    The trainer (``ema_decay=...``) updates it after each optimizer step, validates with
    the averaged weights, and saves and restores it with the checkpoint. Buffers (batch
    norm statistics) are not averaged: the model's own are used.

    Args:
        module: the module whose floating-point parameters are averaged.
        decay: the weight of the old average, in ``[0, 1)``.

    Raises:
        TypeError: if ``module`` is not an ``nn.Module``.
        ValueError: if ``decay`` is outside ``[0, 1)``.

    Example:
        >>> import torch
        >>> from pygen.train.ema import ExponentialMovingAverage
        >>> layer = torch.nn.Linear(1, 1, bias=False)
        >>> with torch.no_grad():
        ...     _ = layer.weight.fill_(0.0)
        >>> ema = ExponentialMovingAverage(layer, decay=0.5)
        >>> with torch.no_grad():
        ...     _ = layer.weight.fill_(1.0)
        >>> ema.update()
        >>> with ema.applied():
        ...     layer.weight.item()
        0.5
        >>> layer.weight.item()
        1.0
    """

    def __init__(self, module: nn.Module, decay: float) -> None:
        if not isinstance(module, nn.Module):
            raise TypeError(
                f"ExponentialMovingAverage: module must be an nn.Module, got "
                f"{type(module).__name__}"
            )
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 <= decay < 1:
            raise ValueError(f"ema_decay must be a number in [0, 1), got {decay!r}")
        self.decay = float(decay)
        self.names = [name for name, p in module.named_parameters() if p.is_floating_point()]
        named = dict(module.named_parameters())
        self._parameters = [named[name] for name in self.names]
        self.averages = [p.detach().clone() for p in self._parameters]

    def update(self) -> None:
        """Move the averages towards the current parameters."""
        weight = 1.0 - self.decay
        with torch.no_grad():
            for average, parameter in zip(self.averages, self._parameters, strict=True):
                average.lerp_(parameter, weight)

    @contextmanager
    def applied(self) -> Iterator[None]:
        """Within the block the module holds the averaged weights; restored afterwards."""
        with torch.no_grad():
            saved = [p.detach().clone() for p in self._parameters]
            for parameter, average in zip(self._parameters, self.averages, strict=True):
                parameter.copy_(average)
        try:
            yield
        finally:
            with torch.no_grad():
                for parameter, value in zip(self._parameters, saved, strict=True):
                    parameter.copy_(value)

    def copy_to(self, module: nn.Module) -> None:
        """Load the averaged weights into ``module`` (the same architecture).

        Raises:
            KeyError: if ``module`` lacks one of the averaged parameters.
        """
        named = dict(module.named_parameters())
        with torch.no_grad():
            for name, average in zip(self.names, self.averages, strict=True):
                named[name].copy_(average)

    def state_dict(self) -> dict[str, Any]:
        """The decay and the averages by parameter name (plain tensors)."""
        return {
            "decay": self.decay,
            "averages": dict(zip(self.names, self.averages, strict=True)),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`.

        Raises:
            ValueError: if the averaged parameter names differ.
        """
        averages = state["averages"]
        if sorted(averages) != sorted(self.names):
            raise ValueError(
                f"ExponentialMovingAverage.load_state_dict: the state averages "
                f"{sorted(averages)} but the module has {sorted(self.names)}"
            )
        self.decay = float(state["decay"])
        with torch.no_grad():
            for name, average in zip(self.names, self.averages, strict=True):
                average.copy_(averages[name])
