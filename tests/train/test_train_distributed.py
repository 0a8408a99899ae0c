"""Tests for pygen.train.distributed, including a real 2-process torchrun on the CPU."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from pygen.train.checkpoint import safe_load
from pygen.train.distributed import DistributedContext, _attempt_store


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"WORLD_SIZE": "two"}, "WORLD_SIZE must be an integer, got 'two'"),
        ({"WORLD_SIZE": "0"}, "world_size must be >= 1, got 0"),
        ({"WORLD_SIZE": "2", "RANK": "2"}, r"rank must be in \[0, 2\), got 2"),
        ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "-1"}, "local_rank must be >= 0"),
    ],
)
def test_train_distributed_rejects_bad_environment(env, match):
    with pytest.raises(ValueError, match=match):
        DistributedContext.from_environment(env)


def test_train_distributed_single_process_is_a_no_op():
    context = DistributedContext.from_environment({})
    device = torch.device("cpu")
    assert context.setup(device) == device
    module = torch.nn.Linear(1, 1)
    assert context.wrap(module, device) is module
    assert context.sum([1.0, 2.5], device) == [1.0, 2.5]
    context.barrier()
    context.shutdown()
    assert repr(context) == "DistributedContext(rank=0, world_size=1, local_rank=0)"


@pytest.mark.parametrize(
    ("device", "expected"),
    [("cpu", "cpu"), ("meta", "cpu"), ("cuda:1", "cuda:1")],
)
def test_train_distributed_reduction_device_is_the_gpu_for_cuda_else_the_cpu(device, expected):
    # nccl sums GPU tensors; gloo, for every other model, CPU ones
    assert DistributedContext.reduction_device(torch.device(device)) == torch.device(expected)


def test_train_distributed_each_torchrun_restart_has_its_own_keys_in_the_agent_store():
    server = torch.distributed.TCPStore(
        "127.0.0.1", 0, 1, is_master=True, timeout=datetime.timedelta(seconds=10)
    )
    env = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(server.port)}
    assert _attempt_store(env, 1) is None  # not torchrun's agent store: env:// as usual
    env["TORCHELASTIC_USE_AGENT_STORE"] = "True"
    first = _attempt_store(dict(env, TORCHELASTIC_RESTART_COUNT="0"), 1)
    restarted = _attempt_store(dict(env, TORCHELASTIC_RESTART_COUNT="1"), 1)
    first.set("rank_0", "dead worker")
    restarted.set("rank_0", "new worker")
    assert server.get("pygen/attempt_0/rank_0") == b"dead worker"
    assert server.get("pygen/attempt_1/rank_0") == b"new worker"
    assert restarted.get("rank_0") == b"new worker"
    with pytest.raises(ValueError, match="TORCHELASTIC_RESTART_COUNT must be an integer"):
        _attempt_store(dict(env, TORCHELASTIC_RESTART_COUNT="x"), 1)


SCRIPT = textwrap.dedent(
    """
    import sys

    import torch
    from torch import nn
    from torch.utils.data import TensorDataset

    from pygen.train import Callback, LayerTrainer


    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))

        def forward(self, x):
            return torch.distributions.Categorical(logits=self.net(x))


    class Ranks(Callback):
        def on_train_end(self, trainer):
            print(f"rank {trainer.rank} of {trainer.world_size} main={trainer.is_main_process}")


    def train(batch_size, folder):
        torch.set_num_threads(1)
        torch.manual_seed(0)
        model = Classifier()
        generator = torch.Generator().manual_seed(1)
        x = torch.randn(128, 4, generator=generator)
        y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
        trainer = LayerTrainer(
            model,
            TensorDataset(x, y),
            batch_size,
            3,
            model_path=None if folder is None else f"{folder}/model.pt",
            checkpoint_path=None if folder is None else f"{folder}/checkpoint.pt",
            callbacks=[Ranks()],
            validation_dataset=TensorDataset(x, y),
            seed=5,
            progress=False,
            optimizer=lambda params: torch.optim.SGD(params, lr=0.1),
        )
        trainer.train()
        return model, trainer


    if __name__ == "__main__":
        train(8, sys.argv[1])
    """
)


@pytest.mark.slow
def test_train_distributed_torchrun_matches_single_process_and_only_rank0_writes(tmp_path):
    import runpy

    script = tmp_path / "ddp_script.py"
    script.write_text(SCRIPT)
    output = tmp_path / "out"
    output.mkdir()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--standalone",
        str(script),
        str(output),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rank 0 of 2 main=True" in result.stdout
    assert "rank 1 of 2 main=False" in result.stdout
    assert sorted(os.listdir(output)) == ["checkpoint.pt", "model.pt"]  # no rank-1 files

    # the same global batch (2 x 8) in one process
    model, trainer = runpy.run_path(str(script))["train"](16, None)
    distributed = safe_load(output / "model.pt")
    for name, value in model.state_dict().items():
        torch.testing.assert_close(distributed[name], value, rtol=1e-5, atol=1e-6)
    state = safe_load(output / "checkpoint.pt")
    assert state["batch_num"] == trainer.batch_num == 24
    for ours, theirs in zip(state["history"]["epochs"], trainer.history.epochs, strict=True):
        for key in ("log_prob", "accuracy", "val_log_prob", "val_accuracy"):
            assert ours[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-6), key
