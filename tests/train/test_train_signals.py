"""A scheduler's signal to the whole process group (``os.killpg``, as SLURM sends it)
while DataLoader workers run: the workers survive it, the trainer checkpoints and exits
with 128 + the signal, and the resumed run is bit-exact (1 and 2 workers, persistent or
not, one process and a 2-process torchrun). Without a checkpoint_path under a scheduler:
a warning at the start and a line at the signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from pygen.train._signals import STOP_SIGNALS, shield_worker, stop_signals_blocked
from pygen.train.checkpoint import safe_load

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="needs POSIX signals")

SCRIPT = textwrap.dedent(
    '''
    import os
    import signal
    import sys
    import time

    import torch
    from torch import nn
    from torch.utils.data import Dataset

    from pygen.train import Callback, LayerTrainer, TrainingPreempted, atomic_save


    class Items(Dataset):
        """No batched fetch: batches come through a DataLoader and its workers."""

        def __init__(self):
            generator = torch.Generator().manual_seed(1)
            self.x = torch.randn(64, 4, generator=generator)
            self.y = (self.x[:, 0] > 0).long() + (self.x[:, 1] > 0.5).long()

        def __len__(self):
            return len(self.x)

        def __getitem__(self, index):
            return self.x[index], self.y[index]


    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))

        def forward(self, x):
            return torch.distributions.Categorical(logits=self.net(x))


    class PauseAt(Callback):
        """After step `step` on rank 0: say so and wait for the file `go` (the test signals
        the process group, then writes it)."""

        def __init__(self, step, go):
            self.step, self.go = step, go

        def on_batch_end(self, trainer):
            if trainer.global_step != self.step:
                return
            if trainer.rank != 0:
                return
            print(f"paused at step {self.step}", flush=True)
            deadline = time.monotonic() + 60
            while not os.path.exists(self.go) and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.5)  # the workers' deaths (if they die) reach this process


    def train(checkpoint, out, step, go, workers, persistent):
        torch.set_num_threads(1)
        torch.manual_seed(0)
        model = Classifier()
        trainer = LayerTrainer(
            model,
            Items(),
            4,
            2,
            callbacks=[PauseAt(step, go)],
            checkpoint_path=None if checkpoint == "none" else checkpoint,
            seed=7,
            progress=False,
            num_workers=workers,
            persistent_workers=persistent,
            optimizer=lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
        )
        try:
            trainer.train()
        except TrainingPreempted as stop:
            print(f"rank {trainer.rank} stopped after step {stop.step}", flush=True)
            raise
        if trainer.is_main_process and out != "none":
            atomic_save(model.state_dict(), out)
        return model


    if __name__ == "__main__":
        checkpoint, out, step, go, workers, persistent = sys.argv[1:7]
        train(checkpoint, out, int(step), go, int(workers), persistent == "persistent")
    '''
)
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2"]


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "TORCHELASTIC"))}
    return dict(env, OMP_NUM_THREADS="1", **extra)


def _script(tmp_path):
    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT)
    return script


def _group_signal(command, tmp_path, signal_number, env=None):
    """Run `command` in a new process group; at its 'paused' line signal the whole group,
    then create the file named by the argument "go" (the paused rank then goes on)."""
    go = tmp_path / "go"
    go.unlink(missing_ok=True)
    command = [str(go) if part == "go" else str(part) for part in command]
    with open(tmp_path / "stderr.txt", "w+") as stderr:
        process = subprocess.Popen(
            command,
            env=env or _env(),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
        lines = []
        try:
            for line in process.stdout:
                lines.append(line)
                if line.startswith("paused"):
                    os.killpg(process.pid, signal_number)
                    go.touch()
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        _wait_for_group(process.pid)
        stderr.seek(0)
        return process.returncode, "".join(lines), stderr.read()


def _wait_for_group(group, timeout=60):
    """The launcher may exit before its children (an agent killed by SIGUSR1)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(group, signal.SIGKILL)
    raise AssertionError(f"process group {group} still alive after {timeout} s")


def _run(command, env=None, timeout=180):
    result = subprocess.run(
        list(map(str, command)),
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def _assert_equal(saved, reference):
    assert saved.keys() == reference.keys()
    for name, value in reference.items():
        assert torch.equal(saved[name], value), name


def test_train_signals_shield_worker_blocks_stop_signals_in_this_thread():
    import threading

    result = {}

    def worker():
        with stop_signals_blocked():
            result["blocked"] = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        result["after"] = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        shield_worker(0)  # as in a DataLoader worker: they stay blocked, a thread takes them
        result["shielded"] = signal.pthread_sigmask(signal.SIG_BLOCK, [])

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert set(STOP_SIGNALS) <= result["blocked"]
    assert not set(STOP_SIGNALS) & result["after"]
    assert set(STOP_SIGNALS) <= result["shielded"]
    assert any(t.name == "pygen-stop-signals" for t in threading.enumerate())


@pytest.mark.slow
def test_train_signals_group_sigterm_and_sigusr1_with_workers_resume_bit_exact(tmp_path):
    script = _script(tmp_path)
    checkpoint, out = tmp_path / "run.pt", tmp_path / "final.pt"
    python = [sys.executable, script, checkpoint, out]

    # 16 batches of 4 = 16 steps per epoch. SIGTERM to the group after step 5, 1 worker
    code, stdout, stderr = _group_signal([*python, 5, "go", 1, "fresh"], tmp_path, signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, stdout + stderr
    assert "rank 0 stopped after step 5" in stdout
    assert "DataLoader worker" not in stderr
    state = safe_load(checkpoint)
    assert (state["global_step"], state["epochs_done"], state["batch_in_epoch"]) == (5, 0, 5)

    # resumed; SIGUSR1 to the group after step 20 (mid-epoch 1), 2 persistent workers
    code, stdout, stderr = _group_signal(
        [*python, 20, "go", 2, "persistent"], tmp_path, signal.SIGUSR1
    )
    assert code == 128 + signal.SIGUSR1, stdout + stderr
    assert "DataLoader worker" not in stderr
    state = safe_load(checkpoint)
    assert (state["global_step"], state["batch_in_epoch"]) == (20, 4)

    code, output = _run([*python, 0, "none", 2, "fresh"])
    assert code == 0, output
    assert safe_load(checkpoint)["global_step"] == 32

    import runpy

    reference = runpy.run_path(str(script))["train"]("none", "none", 0, "none", 0, False)
    _assert_equal(safe_load(out), reference.state_dict())


@pytest.mark.slow
def test_train_signals_no_checkpoint_path_warns_at_start_and_at_the_signal(tmp_path):
    script = _script(tmp_path)
    command = [sys.executable, "-W", "default", script, "none", "none", 3, "go", 1, "fresh"]
    code, stdout, stderr = _group_signal(
        command, tmp_path, signal.SIGTERM, env=_env(SLURM_JOB_ID="4242")
    )
    assert code == 128 + signal.SIGTERM, stdout + stderr
    warning = (
        "RuntimeWarning: LayerTrainer: no checkpoint_path, so if this job is preempted "
        "(SIGTERM or SIGUSR1; SLURM_JOB_ID is set) the training is lost"
    )
    assert stderr.count(warning) == 1, stderr
    assert (
        "pygen.train: SIGTERM after step 3: no checkpoint_path was set, so nothing was saved"
        in stderr
    ), stderr
    assert not list(tmp_path.glob("*.pt"))


@pytest.mark.slow
def test_train_signals_torchrun_group_sigterm_with_workers_resume_bit_exact(tmp_path):
    script = _script(tmp_path)
    checkpoint, out = tmp_path / "run.pt", tmp_path / "final.pt"
    standalone = [*TORCHRUN, "--standalone", script]

    code, output = _run([*standalone, "none", tmp_path / "reference.pt", 0, "none", 1, "fresh"])
    assert code == 0, output

    # 32 examples per rank: 8 steps per epoch. SIGTERM to the whole group (launcher,
    # both ranks, their persistent workers) while rank 0 is in step 3's hooks
    code, stdout, stderr = _group_signal(
        [*standalone, checkpoint, out, 3, "go", 2, "persistent"], tmp_path, signal.SIGTERM
    )
    assert code != 0
    assert "rank 0 stopped after step" in stdout, stdout + stderr
    assert "rank 1 stopped after step" in stdout, stdout + stderr
    assert "DataLoader worker" not in stderr, stderr
    step = safe_load(checkpoint)["global_step"]
    assert step in (3, 4), step
    assert f"rank 0 stopped after step {step}" in stdout

    code, output = _run([*standalone, checkpoint, out, 0, "none", 1, "fresh"])
    assert code == 0, output
    assert safe_load(checkpoint)["global_step"] == 16
    _assert_equal(safe_load(out), safe_load(tmp_path / "reference.pt"))
