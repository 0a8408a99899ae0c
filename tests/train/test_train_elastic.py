"""Elastic restarts under torchrun (gloo on the CPU): a worker SIGKILLed mid-epoch is
restarted with every other worker (``--max-restarts=1``), they resume from the last step
checkpoint written before the kill and end with exactly the parameters of an
uninterrupted run. On one node with two workers, and on two "nodes": two torchrun
launchers on this machine, one worker each, meeting at a c10d rendezvous on 127.0.0.1.

Nothing is saved at a SIGKILL, so the restarted workers replay steps 10 and 11 from the
checkpoint of step 9; the equality with the uninterrupted run shows the replay is exact.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from pygen.train.checkpoint import safe_load

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals"),
]

SCRIPT = textwrap.dedent(
    '''
    import os
    import signal
    import sys
    from pathlib import Path

    import torch
    from torch import nn
    from torch.utils.data import TensorDataset

    from pygen.train import Callback, LayerTrainer, atomic_save


    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))

        def forward(self, x):
            return torch.distributions.Categorical(logits=self.net(x))


    class KillOnce(Callback):
        """Rank 1 SIGKILLs itself after optimizer step `step` of a run started afresh.

        Not after a restart, which starts from a checkpoint. (torchrun's restart count,
        TORCHELASTIC_RESTART_COUNT, is each node's own: on two nodes it can differ.)
        """

        def __init__(self, step):
            self.step = step
            self.fresh = False

        def on_train_start(self, trainer):
            self.fresh = trainer.global_step == 0
            restarts = os.environ.get("TORCHELASTIC_RESTART_COUNT")
            print(
                f"rank {trainer.rank} starts at step {trainer.global_step} "
                f"(restart count {restarts})",
                flush=True,
            )

        def on_batch_end(self, trainer):
            if self.fresh and trainer.rank == 1 and trainer.global_step == self.step:
                print(f"rank 1 SIGKILLs itself after step {self.step}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)


    def main(checkpoint, out, kill_at, pids):
        (Path(pids) / str(os.getpid())).touch()  # for the test to clean up after a hang
        torch.set_num_threads(1)
        torch.manual_seed(0)
        model = Classifier()
        generator = torch.Generator().manual_seed(1)
        x = torch.randn(128, 4, generator=generator)
        y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
        trainer = LayerTrainer(  # 2 ranks x batches of 8: 8 steps per epoch, 24 in all
            model,
            TensorDataset(x, y),
            8,
            3,
            use_scheduler=True,
            callbacks=[KillOnce(kill_at)],
            checkpoint_path=checkpoint,
            checkpoint_every_n_steps=3,
            seed=7,
            progress=False,
        )
        trainer.train()
        if trainer.is_main_process:
            atomic_save(model.state_dict(), out)


    if __name__ == "__main__":
        checkpoint, out, kill_at, pids = sys.argv[1:5]
        main(checkpoint, out, int(kill_at), pids)
    '''
)
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]
KILL_AT = 11  # after step 11: the last checkpoint is step 9's (every 3 steps)
TIMEOUT = 180  # seconds for one launch; a run takes 10 to 30 here


def _env(**extra: str) -> dict[str, str]:
    """This environment without the variables of a scheduler or launcher around pytest."""
    launcher = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLURM_", "TORCHELASTIC_", "TORCH_DISABLE_SHARE_RDZV"))
        and key not in launcher
    }
    return dict(env, OMP_NUM_THREADS="1", **extra)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _kill_leftover_workers(pids: Path, script: Path) -> None:
    """SIGKILL the workers still running (torchrun starts each in a session of its own)."""
    for entry in pids.iterdir():
        try:
            command_line = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except OSError:
            continue  # gone
        if str(script).encode() in command_line:  # not a process that reused the number
            os.kill(int(entry.name), signal.SIGKILL)


def _launch(
    tmp_path: Path, commands: list[list[str]], kill_at: int, env: dict[str, str]
) -> tuple[list[int], str]:
    """Run torchrun launchers side by side, one per option list; exit codes and output.

    Each runs the script in ``tmp_path``; rank 0 saves the final parameters to
    ``final.pt`` and the checkpoint is ``run.pt``.
    """
    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT)
    pids = tmp_path / "pids"
    pids.mkdir()
    arguments = [tmp_path / "run.pt", tmp_path / "final.pt", kill_at, pids]
    processes: list[subprocess.Popen] = []
    logs = [tmp_path / f"launcher{index}.log" for index in range(len(commands))]
    codes: list[int] | None = None
    try:
        for command, log in zip(commands, logs, strict=True):
            with open(log, "w") as output:
                processes.append(
                    subprocess.Popen(
                        [*TORCHRUN, *command, str(script), *map(str, arguments)],
                        env=env,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        deadline = time.monotonic() + TIMEOUT
        codes = [process.wait(timeout=max(deadline - time.monotonic(), 1)) for process in processes]
    except subprocess.TimeoutExpired:
        pass  # reported below, with the output
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        _kill_leftover_workers(pids, script)
    output = "\n".join(log.read_text() for log in logs)
    if codes is None:
        pytest.fail(f"torchrun still running after {TIMEOUT} s:\n{output}")
    return codes, output


def _assert_equal(saved: dict[str, torch.Tensor], reference: dict[str, torch.Tensor]) -> None:
    assert saved.keys() == reference.keys()
    for name, value in reference.items():
        assert torch.equal(saved[name], value), name


def _assert_restarted_at_step_9(output: str) -> None:
    assert output.count(f"rank 1 SIGKILLs itself after step {KILL_AT}") == 1, output
    for rank in (0, 1):
        assert output.count(f"rank {rank} starts at step 0 (restart count 0)") == 1, output
        assert output.count(f"rank {rank} starts at step 9 (restart count") == 1, output


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, torch.Tensor]:
    """The final parameters of the same program under torchrun, 2 workers, no kill."""
    tmp_path = tmp_path_factory.mktemp("uninterrupted")
    command = ["--nnodes=1", "--nproc-per-node=2", "--standalone"]
    (code,), output = _launch(tmp_path, [command], -1, _env())
    assert code == 0, output
    assert "starts at step 0 (restart count 0)" in output, output
    assert "SIGKILL" not in output, output
    assert safe_load(tmp_path / "run.pt")["global_step"] == 24
    return safe_load(tmp_path / "final.pt")


@pytest.mark.parametrize("rendezvous", ["c10d", "static"])
def test_train_elastic_one_node_sigkilled_worker_restarts_and_resumes_bit_exact(
    tmp_path, uninterrupted, rendezvous
):
    # torchrun's own store for the job outlives the workers it restarts: the restarted
    # process group must not read the dead workers' keys there (see pygen.train.distributed).
    # c10d: --standalone; static: torchrun's default rendezvous, on a free port.
    command = ["--nnodes=1", "--nproc-per-node=2", "--max-restarts=1"]
    command += ["--standalone"] if rendezvous == "c10d" else [f"--master-port={_free_port()}"]
    (code,), output = _launch(tmp_path, [command], KILL_AT, _env())
    assert code == 0, output
    _assert_restarted_at_step_9(output)
    for rank in (0, 1):  # one agent restarted both
        assert f"rank {rank} starts at step 9 (restart count 1)" in output, output
    assert safe_load(tmp_path / "run.pt")["global_step"] == 24
    _assert_equal(safe_load(tmp_path / "final.pt"), uninterrupted)


def test_train_elastic_two_nodes_c10d_sigkilled_worker_restarts_and_resumes_bit_exact(
    tmp_path, uninterrupted
):
    # Two launchers, one worker each, meet at a c10d rendezvous (no --node-rank: the
    # rendezvous assigns node ranks, and it can meet again after a failure, which a static
    # rendezvous cannot). One node is restarted by its failed worker, the other because a
    # node waits at the rendezvous, which torchrun does not count as a restart, so their
    # restart counts differ and cannot name the restart's keys in a store they share:
    # TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 gives each restart a fresh store instead.
    port = _free_port()
    node = [
        "--nnodes=2",
        "--nproc-per-node=1",
        "--max-restarts=1",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint=127.0.0.1:{port}",
        "--rdzv-id=pygen-elastic-test",
    ]
    env = _env(TORCH_DISABLE_SHARE_RDZV_TCP_STORE="1")
    codes, output = _launch(tmp_path, [node, node], KILL_AT, env)
    assert codes == [0, 0], output
    _assert_restarted_at_step_9(output)
    assert "rank 1 starts at step 9 (restart count 1)" in output, output  # its node failed
    assert safe_load(tmp_path / "run.pt")["global_step"] == 24
    # the same two ranks as the one-node run: the same training, to the bit
    _assert_equal(safe_load(tmp_path / "final.pt"), uninterrupted)
