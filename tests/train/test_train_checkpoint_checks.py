"""Resume checks (pygen.train._checkpoint_checks): refused before anything is loaded."""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from pygen.train import (
    CallableObjective,
    Callback,
    DistributionTrainer,
    UnreadableCheckpointError,
    atomic_save,
    safe_load,
)


class Gaussian(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(2))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.distributions.Normal(self.loc, 1.0).log_prob(x).sum(-1)


class Counter(Callback):
    def __init__(self) -> None:
        self.batches = 0

    def on_batch_end(self, trainer):
        self.batches += 1

    def state_dict(self):
        return {"batches": self.batches}

    def load_state_dict(self, state):
        self.batches = state["batches"]


class Quiet(Callback):
    """No state: may be added or dropped between runs."""


def data(n: int = 24) -> TensorDataset:
    return TensorDataset(torch.randn(n, 2, generator=torch.Generator().manual_seed(3)))


def trainer(path, **options):
    options = {"batch_size": 8, "max_epoch": 2, **options}
    return DistributionTrainer(
        options.pop("model", Gaussian()),
        data(),
        options.pop("batch_size"),
        options.pop("max_epoch"),
        checkpoint_path=path,
        progress=False,
        seed=0,
        **options,
    )


def test_train_checkpoint_checks_corrupt_files_name_the_file_and_the_fix(tmp_path):
    path = tmp_path / "run.pt"
    trainer(path, max_epoch=1).train()
    whole = path.read_bytes()
    random.seed(0)
    for label, content in (
        ("truncated", whole[: len(whole) // 2]),
        ("empty", b""),
        ("random", bytes(random.randrange(256) for _ in range(2000))),
        ("text", b"not a checkpoint\n" * 20),
    ):
        bad = tmp_path / f"{label}.pt"
        bad.write_bytes(content)
        with pytest.raises(UnreadableCheckpointError, match=rf"{label}\.pt' is not a readable"):
            safe_load(bad)
        with pytest.raises(ValueError, match=r"not a readable checkpoint.*delete it"):
            trainer(bad).train()


def test_train_checkpoint_checks_stateful_callbacks_are_keyed_not_positional(tmp_path):
    path = tmp_path / "run.pt"
    trainer(path, max_epoch=1, callbacks=[Counter()]).train()
    assert list(safe_load(path)["callbacks"]) == ["Counter"]
    counter = Counter()
    # a stateless callback added in front: the counter still gets its own state
    resumed = trainer(path, max_epoch=2, callbacks=[Quiet(), counter])
    resumed.train()
    assert counter.batches == 6
    with pytest.raises(ValueError, match=r"callback\(s\) \['Counter'\] but this trainer has no"):
        trainer(path, max_epoch=3, callbacks=[Quiet()]).train()
    # two of one class: the second is "Counter#1"
    first, second = Counter(), Counter()
    path2 = tmp_path / "two.pt"
    trainer(path2, max_epoch=1, callbacks=[first, second]).train()
    assert sorted(safe_load(path2)["callbacks"]) == ["Counter", "Counter#1"]


def test_train_checkpoint_checks_format_2_positional_checkpoints_still_load(tmp_path):
    path = tmp_path / "run.pt"
    trainer(path, max_epoch=1, callbacks=[Counter()]).train()
    state = safe_load(path)
    state["format"] = "pygen.train.checkpoint/2"
    state["callbacks"] = list(state["callbacks"].values())
    for key in ("loader", "optimizer_class"):
        del state[key]
    atomic_save(state, path)
    counter = Counter()
    trainer(path, max_epoch=2, callbacks=[counter]).train()
    assert counter.batches == 6


def test_train_checkpoint_checks_optimizer_class_change_is_named(tmp_path):
    path = tmp_path / "run.pt"
    trainer(path, max_epoch=1).train()  # Adam
    sgd = {"optimizer": lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9)}
    with pytest.raises(ValueError, match=r"optimizer is Adam but this trainer's is SGD"):
        trainer(path, **sgd).train()
    state = safe_load(path)  # a format 2 file has no class name: the settings tell
    del state["optimizer_class"]
    atomic_save(state, path)
    with pytest.raises(ValueError, match=r"settings .*'amsgrad'.* but this trainer's SGD has"):
        trainer(path, **sgd).train()


def test_train_checkpoint_checks_objective_names_must_match(tmp_path):
    path = tmp_path / "run.pt"
    trainer(path, max_epoch=1).train()  # log_prob

    def as_elbo(model, batch):
        return model.log_prob(batch[0])

    elbo = CallableObjective(as_elbo, name="elbo")
    with pytest.raises(ValueError, match=r"\['log_prob'\] but this trainer's objective gives"):
        trainer(path, objective=elbo).train()

    def with_metric(model, batch):
        value = model.log_prob(batch[0])
        return value, {"extra": value.detach()}

    model = Gaussian()
    added = CallableObjective(with_metric, name="log_prob")
    resumed = trainer(path, model=model, objective=added)
    before = model.loc.detach().clone()
    with pytest.raises(ValueError, match=r"metrics \['log_prob'\] .*\['log_prob', 'extra'\]"):
        resumed.train()
    assert torch.equal(model.loc, safe_load(path)["trainable"]["loc"])  # no step was taken
    assert not torch.equal(before, model.loc)  # (the checkpoint's weights were loaded)


def test_train_checkpoint_checks_mid_epoch_batch_size_change_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    trainer(path, max_steps=1, checkpoint_every_n_steps=1).train()
    assert safe_load(path)["batch_in_epoch"] == 1
    with pytest.raises(ValueError, match=r"batch_size=8, world_size=1, but this trainer has "
                       r"batch_size=4"):  # fmt: skip
        trainer(path, batch_size=4).train()
    resumed = trainer(path)  # the same batch_size resumes
    resumed.train()
    assert resumed.batch_num == 6
    # at an epoch boundary any batch_size resumes
    path2 = tmp_path / "epoch.pt"
    trainer(path2, max_epoch=1).train()
    other = trainer(path2, batch_size=4)
    other.train()
    assert other.batch_num == 3 + 6


def test_train_checkpoint_checks_ema_decay_change_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    trainer(path, max_epoch=1, ema_decay=0.9).train()
    with pytest.raises(ValueError, match=r"ema_decay=0.9 but this trainer has ema_decay=0.99"):
        trainer(path, ema_decay=0.99).train()
    with pytest.raises(ValueError, match=r"with EMA weights \(ema_decay=0.9\) but this trainer"):
        trainer(path).train()
    resumed = trainer(path, ema_decay=0.9)
    resumed.train()
    assert resumed.ema is not None
    assert resumed.ema.decay == 0.9
