"""Exactness helpers of the image-flow tests (float64), as fixtures."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor

Map = Callable[[Tensor], tuple[Tensor, Tensor]]


def jacobian_log_det(function: Map, x: Tensor) -> float:
    """``log|det J|`` of ``function`` at one example ``x`` by autograd (dense Jacobian)."""

    def flat(v: Tensor) -> Tensor:
        return function(v.reshape(x.shape))[0].reshape(-1)

    jacobian = torch.autograd.functional.jacobian(flat, x.reshape(-1))
    sign, log_abs = torch.linalg.slogdet(jacobian)
    assert sign != 0
    return float(log_abs)


def randomize(module: torch.nn.Module, std: float = 0.3, seed: int = 0) -> None:
    """Give every parameter random values (so zero-initialised layers are not the identity)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            noise = torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype)
            parameter.add_(std * noise)


@pytest.fixture(name="jacobian_log_det")
def jacobian_log_det_fixture() -> Callable[[Map, Tensor], float]:
    """:func:`jacobian_log_det`."""
    return jacobian_log_det


@pytest.fixture(name="randomize")
def randomize_fixture() -> Callable[..., None]:
    """:func:`randomize`."""
    return randomize


@pytest.fixture(name="float64")
def float64_fixture():
    """Run the test with float64 as the default dtype."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)
