"""Tests for pygen.train.train: validation, bad input, and real training to a stated quality.

Only torch and pygen.train are imported: these models are built from torch.distributions.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn
from torch.utils.data import Dataset, Subset, TensorDataset

from pygen.train import Callback, DistributionTrainer, LayerTrainer, NonFiniteLogProbError
from pygen.train.checkpoint import safe_load
from pygen.train.train import rm_scheduler


class NormalModel(nn.Module):
    """A univariate Normal with trainable loc and log-scale."""

    def __init__(self) -> None:
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(()))
        self.log_scale = nn.Parameter(torch.zeros(()))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        # validate_args=False: the non-finite tests feed NaN/inf through log_prob
        normal = torch.distributions.Normal(self.loc, self.log_scale.exp(), validate_args=False)
        return normal.log_prob(x)


class SoftmaxClassifier(nn.Module):
    """Linear layer followed by a Categorical over classes."""

    def __init__(self, features: int = 2, classes: int = 2) -> None:
        super().__init__()
        self.linear = nn.Linear(features, classes)

    def forward(self, x: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.linear(x))


def separable_data(n: int = 512) -> TensorDataset:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(n, 2, generator=generator)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    x = x + 0.3 * (2 * y[:, None] - 1) * torch.tensor([1.0, 0.5])  # push classes apart
    return TensorDataset(x, y)


def quiet(trainer_class, *args, **kwargs):
    kwargs.setdefault("progress", False)
    return trainer_class(*args, **kwargs)


# -- argument validation -------------------------------------------------------------------


def test_train_rejects_non_module_trainable():
    data = TensorDataset(torch.randn(8))
    with pytest.raises(TypeError, match=r"trainable must be a torch.nn.Module.*Normal"):
        DistributionTrainer(torch.distributions.Normal(0.0, 1.0), data)


def test_train_rejects_trainable_without_log_prob():
    with pytest.raises(TypeError, match=r"must have a log_prob method.*Linear"):
        DistributionTrainer(nn.Linear(1, 1), TensorDataset(torch.randn(8)))


def test_train_rejects_module_without_parameters():
    class Fixed(nn.Module):
        def log_prob(self, x):
            return -(x**2)

    with pytest.raises(ValueError, match="no parameters that require grad"):
        DistributionTrainer(Fixed(), TensorDataset(torch.randn(8)), batch_size=4)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, r"batch_size must be >= 1, got 0"),
        ({"batch_size": 2.0}, TypeError, r"batch_size must be an int, got float"),
        ({"max_epoch": -1}, ValueError, r"max_epoch must be >= 0, got -1"),
        ({"batch_size": 65}, ValueError, r"batch_size=65 for 64 example"),
        ({"grad_clip_norm": 0.0}, ValueError, "grad_clip_norm must be a positive number"),
        ({"amp": "fp8"}, ValueError, "amp must be one of"),
        ({"seed": -3}, ValueError, "seed must be >= 0"),
        ({"callbacks": [print]}, TypeError, r"callbacks\[0\] must be a pygen.train.Callback"),
        ({"batch_end_callback": 3}, TypeError, "batch_end_callback must be callable"),
        ({"optimizer": "adam"}, TypeError, "optimizer must be a torch.optim.Optimizer"),
        ({"optimizer": lambda p: 3}, TypeError, "optimizer factory must return"),
        ({"scheduler": 5}, TypeError, "scheduler must be a learning-rate scheduler"),
        (
            {"use_scheduler": True, "scheduler": lambda o: None},
            ValueError,
            "use_scheduler=True .* exclusive",
        ),
        ({"model_path": "/no/such/folder/m.pt"}, ValueError, "existing folder"),
        ({"checkpoint_path": 5}, TypeError, "checkpoint_path must be a str or os.PathLike"),
        ({"validation_dataset": TensorDataset(torch.zeros(0))}, ValueError, "must not be empty"),
    ],
)
def test_train_argument_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        DistributionTrainer(NormalModel(), TensorDataset(torch.randn(64)), **kwargs)


def test_train_rejects_empty_dataset():
    with pytest.raises(ValueError, match="dataset must not be empty; got a dataset of length 0"):
        DistributionTrainer(NormalModel(), TensorDataset(torch.zeros(0)))


def test_train_batch_larger_than_data_allowed_without_drop_last():
    trainer = quiet(
        DistributionTrainer, NormalModel(), TensorDataset(torch.randn(5)), 8, 1, drop_last=False
    )
    trainer.train()
    assert trainer.batch_num == 1


class PlainItems(Dataset):
    """Items are bare tensors, not tuples."""

    def __len__(self) -> int:
        return 64

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.zeros(2)


def test_train_rejects_items_that_are_not_tuples():
    with pytest.raises(TypeError, match=r"items must be a tuple .*got Tensor of shape \[2\]"):
        DistributionTrainer(NormalModel(), PlainItems())


def test_train_layer_rejects_items_too_short():
    with pytest.raises(ValueError, match=r"at least 2 element\(s\).*length 1"):
        LayerTrainer(SoftmaxClassifier(), TensorDataset(torch.randn(64, 2)))


def test_train_layer_output_without_log_prob_fails_before_first_step():
    model = nn.Linear(2, 2)
    before = model.weight.detach().clone()
    trainer = quiet(LayerTrainer, model, separable_data(64), batch_size=8)
    with pytest.raises(TypeError, match=r"output must be a distribution with a log_prob.*Tensor"):
        trainer.train()
    assert torch.equal(model.weight, before)


def test_train_log_prob_shape_error_names_shapes_before_first_step():
    class Broadcasting(SoftmaxClassifier):
        pass

    model = Broadcasting()
    before = model.linear.weight.detach().clone()
    x = torch.randn(64, 2)
    labels_with_extra_dim = (x[:, :1] > 0).long()  # [N, 1]: broadcasts to [N, N]
    trainer = quiet(LayerTrainer, model, TensorDataset(x, labels_with_extra_dim), batch_size=8)
    with pytest.raises(ValueError, match=r"shape \[8\] for a batch of 8; got shape \[8, 8\]"):
        trainer.train()
    assert torch.equal(model.linear.weight, before)


def test_train_amp_on_cpu_warns_and_trains():
    with pytest.warns(RuntimeWarning, match="amp='bf16' is ignored"):
        trainer = quiet(
            DistributionTrainer, NormalModel(), TensorDataset(torch.randn(8)), 4, 1, amp="bf16"
        )
    trainer.train()
    assert trainer.batch_num == 2


# -- real training ---------------------------------------------------------------------------


def test_train_linear_softmax_classifier_reaches_high_accuracy():
    data = separable_data()
    model = SoftmaxClassifier()
    trainer = quiet(
        LayerTrainer,
        model,
        data,
        batch_size=32,
        max_epoch=8,
        seed=0,
        optimizer=lambda params: torch.optim.Adam(params, lr=0.05),
    )
    trainer.train()
    x, y = data.tensors
    with torch.no_grad():
        accuracy = (model(x).logits.argmax(-1) == y).float().mean().item()
    assert accuracy > 0.95
    assert trainer.metrics["accuracy"] > 0.95
    assert "bits_per_dim" not in trainer.metrics  # class labels: no bits per dimension
    assert (
        trainer.history.epoch_values("log_prob")[-1] > trainer.history.epoch_values("log_prob")[0]
    )


def test_train_normal_fitted_to_samples_recovers_loc_and_scale():
    generator = torch.Generator().manual_seed(2)
    samples = 1.5 + 0.5 * torch.randn(2000, generator=generator)
    model = NormalModel()
    trainer = quiet(
        DistributionTrainer,
        model,
        TensorDataset(samples),
        batch_size=200,
        max_epoch=60,
        optimizer=lambda params: torch.optim.Adam(params, lr=0.05),
        seed=0,
    )
    trainer.train()
    # MLE: sample mean and (biased) sample std; 2000 samples put them within ~0.02 of truth
    assert model.loc.item() == pytest.approx(samples.mean().item(), abs=0.02)
    assert model.log_scale.exp().item() == pytest.approx(samples.std().item(), abs=0.02)
    assert abs(model.loc.item() - 1.5) < 0.05
    assert abs(model.log_scale.exp().item() - 0.5) < 0.05
    # bits/dim for scalar examples = -log_prob / ln 2
    metrics = trainer.metrics
    assert metrics["bits_per_dim"] == pytest.approx(-metrics["log_prob"] / math.log(2))


def test_train_distribution_trainer_models_first_element_of_labelled_items():
    x = 2.0 + torch.randn(256)
    labels = torch.zeros(256, dtype=torch.long)
    model = NormalModel()
    trainer = quiet(
        DistributionTrainer,
        model,
        TensorDataset(x, labels),
        batch_size=256,
        max_epoch=80,
        optimizer=lambda p: torch.optim.Adam(p, lr=0.1),
    )
    trainer.train()
    assert model.loc.item() == pytest.approx(x.mean().item(), abs=0.05)


def test_train_reverse_inputs_models_first_element_given_second():
    data = separable_data(256)
    x, y = data.tensors
    model = SoftmaxClassifier()
    trainer = quiet(
        LayerTrainer,
        model,
        TensorDataset(y, x),
        reverse_inputs=True,
        max_epoch=6,
        optimizer=lambda p: torch.optim.Adam(p, lr=0.05),
    )
    trainer.train()
    assert trainer.metrics["accuracy"] > 0.9


def test_train_onehot_categorical_reports_accuracy_and_float_targets_get_bits():
    class OneHot(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 2)

        def forward(self, x):
            return torch.distributions.OneHotCategorical(logits=self.linear(x))

    x, y = separable_data(256).tensors
    data = TensorDataset(x, nn.functional.one_hot(y, 2).float())
    trainer = quiet(
        LayerTrainer, OneHot(), data, max_epoch=6, optimizer=lambda p: torch.optim.Adam(p, lr=0.05)
    )
    trainer.train()
    assert trainer.metrics["accuracy"] > 0.9
    assert trainer.metrics["bits_per_dim"] == pytest.approx(
        -trainer.metrics["log_prob"] / (2 * math.log(2))
    )


def test_train_dummy_run_takes_one_batch_per_epoch():
    trainer = quiet(
        DistributionTrainer, NormalModel(), TensorDataset(torch.randn(64)), 8, 3, dummy_run=True
    )
    trainer.train()
    assert trainer.batch_num == 3
    assert [record["batch"] for record in trainer.history.batches] == [1, 2, 3]


def test_train_use_scheduler_applies_robbins_monro_factor():
    trainer = quiet(
        DistributionTrainer, NormalModel(), TensorDataset(torch.randn(16)), 8, 4, use_scheduler=True
    )
    trainer.train()
    rates = trainer.history.epoch_values("lr")
    assert rates == pytest.approx([1e-3 * rm_scheduler(epoch) for epoch in range(4)])


def test_train_optimizer_instance_and_scheduler_factory():
    model = NormalModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    trainer = quiet(
        DistributionTrainer,
        model,
        TensorDataset(torch.randn(16)),
        8,
        3,
        optimizer=optimizer,
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
    )
    assert trainer.optimizer is optimizer
    trainer.train()
    assert trainer.history.epoch_values("lr") == pytest.approx([0.1, 0.05, 0.025])


def test_train_grad_clip_norm_bounds_the_first_step():
    model = NormalModel()
    data = TensorDataset(torch.full((8,), 1000.0))
    trainer = quiet(
        DistributionTrainer,
        model,
        data,
        8,
        1,
        grad_clip_norm=0.5,
        optimizer=lambda p: torch.optim.SGD(p, lr=1.0),
    )
    trainer.train()
    step = torch.stack([model.loc.detach(), model.log_scale.detach()]).norm().item()
    assert step == pytest.approx(0.5, rel=1e-5)


def test_train_nonfinite_log_prob_raises_naming_epoch_and_batch(tmp_path):
    values = torch.randn(64)
    values[45] = float("nan")
    model = NormalModel()
    trainer = quiet(
        DistributionTrainer,
        model,
        TensorDataset(values),
        8,
        3,
        shuffle=False,
        checkpoint_path=tmp_path / "c.pt",
    )
    with pytest.raises(
        NonFiniteLogProbError, match=r"at epoch 0, batch 6 of the epoch \(global batch 6\)"
    ):
        trainer.train()
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert not (tmp_path / "c.pt").exists()  # no epoch finished: nothing written


def test_train_nonfinite_after_a_checkpoint_keeps_it_intact(tmp_path):
    class NanLater(NormalModel):
        def log_prob(self, x):
            value = super().log_prob(x)
            return value * math.nan if trainer.epoch == 1 else value

    path = tmp_path / "c.pt"
    trainer = quiet(
        DistributionTrainer, NanLater(), TensorDataset(torch.randn(16)), 8, 3, checkpoint_path=path
    )
    with pytest.raises(NonFiniteLogProbError, match="at epoch 1, batch 1"):
        trainer.train()
    assert safe_load(path)["epochs_done"] == 1


def test_train_skip_nonfinite_skips_and_counts():
    values = torch.randn(64)
    values[[3, 40]] = float("inf")
    model = NormalModel()
    trainer = quiet(
        DistributionTrainer, model, TensorDataset(values), 8, 2, shuffle=False, skip_nonfinite=True
    )
    trainer.train()
    assert trainer.history.epoch_values("skipped_batches") == [2.0, 2.0]
    assert trainer.batch_num == 16
    assert len(trainer.history.batches) == 12
    assert all(math.isfinite(record["log_prob"]) for record in trainer.history.batches)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_train_should_stop_ends_after_current_epoch():
    class StopAtOne(Callback):
        def on_epoch_end(self, trainer):
            trainer.should_stop = trainer.epoch == 1

    trainer = quiet(
        DistributionTrainer,
        NormalModel(),
        TensorDataset(torch.randn(16)),
        8,
        10,
        callbacks=[StopAtOne()],
    )
    trainer.train()
    assert [record["epoch"] for record in trainer.history.epochs] == [0, 1]


def test_train_model_path_holds_the_state_dict(tmp_path):
    model = NormalModel()
    path = tmp_path / "model.pt"
    quiet(DistributionTrainer, model, TensorDataset(torch.randn(16)), 8, 2, model_path=path).train()
    saved = safe_load(path)
    assert set(saved) == {"loc", "log_scale"}
    assert torch.equal(saved["loc"], model.loc.detach())


class ItemByItem(Dataset):
    """A map-style dataset without a fast path (goes through a DataLoader)."""

    def __init__(self, data: TensorDataset) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        return self.data[index]


def test_train_fast_and_dataloader_paths_give_identical_parameters():
    data = separable_data(96)
    results = []
    for dataset in (data, ItemByItem(data), Subset(data, list(range(96)))):
        torch.manual_seed(0)
        model = SoftmaxClassifier()
        quiet(LayerTrainer, model, dataset, 16, 2, seed=3).train()
        results.append(model.linear.weight.detach())
    assert torch.equal(results[0], results[1])
    assert torch.equal(results[0], results[2])


def test_train_seed_makes_runs_repeatable():
    weights = []
    for _ in range(2):
        model = SoftmaxClassifier()  # different init each time: the seed does not touch it
        torch.manual_seed(0)
        model = SoftmaxClassifier()
        quiet(LayerTrainer, model, separable_data(64), 8, 2, seed=11).train()
        weights.append(model.linear.weight.detach())
    assert torch.equal(weights[0], weights[1])


def test_train_validation_metrics_and_aliases():
    data = separable_data(128)
    trainer = quiet(LayerTrainer, SoftmaxClassifier(), data, 32, 2, validation_dataset=data)
    trainer.train()
    assert {"val_log_prob", "val_accuracy"} <= set(trainer.metrics)
    assert "val_bits_per_dim" not in trainer.metrics
    assert trainer.model is trainer.trainable
    assert trainer.epoch_num == trainer.epoch == 1
    assert trainer.is_main_process
    assert (trainer.rank, trainer.world_size) == (0, 1)
    assert trainer.trainable.training  # validation restored train mode


def test_train_compile_opt_in_trains(monkeypatch):
    calls = []
    real_compile = torch.compile

    def recording_compile(module, **kwargs):
        calls.append(type(module).__name__)
        return module  # compiling takes seconds; the wiring is what is tested here

    monkeypatch.setattr(torch, "compile", recording_compile)
    trainer = quiet(
        DistributionTrainer, NormalModel(), TensorDataset(torch.randn(16)), 8, 1, compile=True
    )
    trainer.train()
    assert calls == ["ObjectiveModule"]
    assert trainer.batch_num == 2
    assert real_compile is not recording_compile


def test_train_progress_writes_one_line_per_epoch_when_not_a_tty(capsys):
    DistributionTrainer(NormalModel(), TensorDataset(torch.randn(16)), 8, 2).train()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2: 2/2 batches, log_prob ")


def test_train_no_warnings_in_plain_training():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet(LayerTrainer, SoftmaxClassifier(), separable_data(64), 8, 1).train()
