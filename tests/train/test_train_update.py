"""OptimizerUpdate (pygen.train._update): one update's result, accumulation, refusals."""

from __future__ import annotations

import dataclasses
import math
import time

import pytest
import torch
from torch import nn

from pygen.train._forward import build_forward
from pygen.train._signals import DeferredSignals
from pygen.train._update import OptimizerUpdate
from pygen.train.distributed import DistributedContext
from pygen.train.objective import CallableObjective, LogProbObjective


class Gaussian(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(()))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.distributions.Normal(self.loc, 1.0).log_prob(x)


def make_update(model, objective=None, *, deadline=None, metric_names=(), signals=None):
    objective = LogProbObjective() if objective is None else objective
    context = DistributedContext()
    device = torch.device("cpu")
    forward, ddp = build_forward(model, objective, context, device, compile=False, where="T")
    return OptimizerUpdate(
        model,
        objective,
        torch.optim.SGD(model.parameters(), lr=0.1),
        forward,
        ddp,
        context,
        device,
        amp_dtype=None,
        scaler=None,
        grad_clip_norm=None,
        check_finite=True,
        signals=DeferredSignals() if signals is None else signals,
        deadline=deadline,
        metric_names=metric_names,
        where="T",
    )


def test_train_update_steps_and_returns_the_per_example_values():
    model = Gaussian()
    x = torch.tensor([1.0, 2.0, 3.0])
    result = make_update(model)([(x,)])
    assert result.stepped
    assert result.nonfinite is None
    assert result.names == ("log_prob",)
    torch.testing.assert_close(result.tensors[0], torch.distributions.Normal(0.0, 1.0).log_prob(x))
    assert not result.tensors[0].requires_grad
    # SGD on minus the mean log-likelihood: loc += lr * mean(x - loc)
    torch.testing.assert_close(model.loc.detach(), torch.tensor(0.2))
    assert (result.stop_signal, result.out_of_time) == (0, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.stop_signal = 15  # type: ignore[misc]


def test_train_update_accumulated_batches_are_one_batch_of_all_examples():
    first, second = Gaussian(), Gaussian()
    x = torch.tensor([0.5, 1.0, 4.0, -2.0, 3.0])
    make_update(first)([(x,)])
    # 3 + 2 examples: each batch's mean over its share of the examples
    result = make_update(second)([(x[:3],), (x[3:],)], [5 / 3, 5 / 2])
    torch.testing.assert_close(second.loc.detach(), first.loc.detach(), atol=1e-6, rtol=0)
    assert result.tensors[0].shape == (5,)


def test_train_update_nonfinite_batch_takes_no_step_and_keeps_its_gradients():
    model = Gaussian()
    good, bad = torch.tensor([1.0, 2.0]), torch.tensor([1.0, math.inf])
    result = make_update(model)([(good,), (bad,)])
    assert not result.stepped
    assert (result.nonfinite.batch, result.nonfinite.ranks) == (2, None)
    assert result.nonfinite.value == -math.inf
    assert model.loc.item() == 0.0  # no step
    assert model.loc.grad is not None  # left for the caller to inspect or clear


def test_train_update_refuses_other_metric_names_before_stepping():
    model = Gaussian()

    def with_metric(model, batch):
        value = model.log_prob(batch[0])
        return value, {"extra": value.detach()}

    update = make_update(model, CallableObjective(with_metric, name="elbo"), metric_names=("elbo",))
    with pytest.raises(
        ValueError, match=r"logged the metrics \['elbo'\] .* gives \['elbo', 'extra'\]"
    ):
        update([(torch.ones(2),)])
    assert model.loc.item() == 0.0


def test_train_update_reports_the_signal_and_the_deadline():
    signals = DeferredSignals()
    signals.received = 15
    result = make_update(Gaussian(), signals=signals, deadline=time.monotonic() - 1.0)(
        [(torch.ones(2),)]
    )
    assert result.stepped
    assert (result.stop_signal, result.out_of_time) == (15, True)


def test_train_update_close_drops_the_forward():
    update = make_update(Gaussian())
    update.close()
    assert update.forward is None
    assert update.ddp is None
