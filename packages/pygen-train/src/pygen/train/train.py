"""Maximum-likelihood training loops: :class:`DistributionTrainer` and :class:`LayerTrainer`.

``DistributionTrainer`` maximises ``trainable.log_prob(x)`` for the first element ``x`` of
each dataset item; ``LayerTrainer`` maximises ``trainable(x).log_prob(y)`` for items
``(x, y, ...)`` (or ``(y, x, ...)`` with ``reverse_inputs=True``). The trainable is any
``nn.Module`` with a ``log_prob`` method (or returning an object with one), including
modules built only from ``torch.distributions``.

State a callback sees
---------------------
Every hook (and the legacy ``batch_end_callback(trainer)`` / ``epoch_end_callback(trainer)``
callables) receives the trainer, whose public attributes are:

* ``trainable`` (alias ``model``): the module being trained (never the DDP wrapper).
* ``optimizer``, ``scheduler`` (or None), ``device``.
* ``epoch`` (alias ``epoch_num``): 0-based index of the current epoch.
* ``batch_num``: global batch counter across epochs; 1 after the first batch.
* ``log_prob_item``: float, mean log-likelihood per example of the last batch.
* ``total_log_prob``: sum of this epoch's batch means; ``batch_len``: batches so far
  this epoch (``total_log_prob / batch_len`` is the running epoch mean).
* ``batch_metrics``: floats for the last batch: ``"log_prob"``, and ``"bits_per_dim"``
  and ``"accuracy"`` where they apply.
* ``metrics``: floats for the finished epoch, set before ``on_epoch_end``:
  ``"log_prob"`` (mean of the batch means), ``"bits_per_dim"``, ``"accuracy"``, ``"lr"``
  (the learning rate this epoch used), ``"skipped_batches"`` (with
  ``skip_nonfinite=True``) and ``"val_log_prob"`` / ``"val_bits_per_dim"`` /
  ``"val_accuracy"`` with a ``validation_dataset``.
* ``history``: a :class:`~pygen.train.history.MetricsHistory`; ``history.batches[i]`` is
  ``{"epoch", "batch", **batch_metrics}``, ``history.epochs[i]`` is
  ``{"epoch", **metrics}``.
* ``rank``, ``world_size``, ``is_main_process`` (rank 0 under ``torchrun``, else True).
* ``should_stop``: set it to True to stop after the current epoch (remembered in the
  checkpoint, so a resumed run stays stopped).

Metrics: ``bits_per_dim = -log_prob / (D ln 2)``. ``DistributionTrainer``: ``D`` is the
number of elements of one example. ``LayerTrainer``: ``D`` is the number of elements of
one target example when the target is floating point or has more than one element per
example; a single integer class label per example gets no bits per dimension.
``accuracy`` is reported when the layer's output has ``logits`` (or ``probs``) with the
classes on the last dimension and the target holds integer labels of the matching shape
(Categorical) or one-hot vectors (OneHotCategorical): the argmax is compared with the
label. Under ``torchrun`` batch metrics are this rank's; epoch metrics are averaged over
all ranks. A batch skipped with ``skip_nonfinite=True`` takes no step, calls no batch
hooks and adds no ``history.batches`` record, but advances ``batch_num``.

Order of events::

    on_train_start
    per epoch: on_epoch_start
               per batch: forward, backward, optimizer step,
                          batch_end_callback, on_batch_end (in list order)
               training metrics -> validation -> metrics/history updated ->
               epoch_end_callback -> on_epoch_end (in list order) ->
               scheduler.step() -> checkpoint and model_path (last)
    on_train_end
"""

from __future__ import annotations

import math
import os
import signal
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from torch.utils.data import Dataset

from pygen.train._objective import (
    LN2,
    AccuracyKind,
    LogProbModule,
    Mode,
    accuracy_kind,
    batch_length,
    check_item,
    check_log_prob_shape,
    correct_count,
    event_numel,
    split_batch,
)
from pygen.train.batching import BatchLoader
from pygen.train.callback import Callback
from pygen.train.checkpoint import atomic_save, safe_load
from pygen.train.distributed import DistributedContext
from pygen.train.errors import NonFiniteLogProbError
from pygen.train.evaluate import (
    _evaluation_sums,
    _metrics_from_sums,
    _model_device,
    _ModeRestorer,
)
from pygen.train.history import MetricsHistory
from pygen.train.progress import ProgressBar
from pygen.train.seeding import get_rng_state, seed_everything, set_rng_state

__all__ = ["DistributionTrainer", "LayerTrainer", "rm_scheduler"]

CHECKPOINT_FORMAT = "pygen.train.checkpoint/1"
OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
SchedulerFactory = Callable[[torch.optim.Optimizer], Any]
AmpOption = Literal["bf16", "fp16"] | bool | None
PathOption = str | os.PathLike[str] | None


def rm_scheduler(epoch: int) -> float:
    """The Robbins-Monro learning-rate factor ``1 / sqrt(1 + epoch)``.

    Used with :class:`torch.optim.lr_scheduler.LambdaLR` when ``use_scheduler=True``:
    the steps shrink, but their sum diverges while the sum of their squares (with the
    harmonic tail) stays small, the classic stochastic-approximation conditions.

    Args:
        epoch: the number of scheduler steps taken (epochs finished).

    Returns:
        The factor applied to the initial learning rate.

    Example:
        >>> from pygen.train.train import rm_scheduler
        >>> [round(rm_scheduler(epoch), 4) for epoch in range(4)]
        [1.0, 0.7071, 0.5774, 0.5]
    """
    return 1.0 / math.sqrt(1.0 + epoch)


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")


def _check_path(name: str, value: object) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(value).__name__}")
    path = Path(value)
    if not path.parent.is_dir():
        raise ValueError(
            f"{name} must be in an existing folder; {str(path.parent)!r} (for "
            f"{str(path)!r}) does not exist"
        )
    return path


class _GracefulInterrupt:
    """Defers Ctrl-C to the next batch boundary; a second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _GracefulInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False


class _Trainer:
    """The training loop shared by :class:`DistributionTrainer` and :class:`LayerTrainer`."""

    _mode: Mode = "distribution"

    def __init__(
        self,
        trainable: nn.Module,
        dataset: Dataset[Any],
        batch_size: int = 32,
        max_epoch: int = 10,
        batch_end_callback: Callable[[Any], Any] | None = None,
        epoch_end_callback: Callable[[Any], Any] | None = None,
        use_scheduler: bool = False,
        dummy_run: bool = False,
        model_path: PathOption = None,
        *,
        reverse_inputs: bool = False,
        callbacks: Sequence[Callback] = (),
        optimizer: torch.optim.Optimizer | OptimizerFactory | None = None,
        scheduler: Any | SchedulerFactory | None = None,
        grad_clip_norm: float | None = None,
        amp: AmpOption = None,
        compile: bool = False,
        validation_dataset: Dataset[Any] | None = None,
        seed: int | None = None,
        progress: bool = True,
        checkpoint_path: PathOption = None,
        skip_nonfinite: bool = False,
        shuffle: bool = True,
        drop_last: bool = True,
        num_workers: int = 0,
    ) -> None:
        name = type(self).__name__
        if not isinstance(trainable, nn.Module):
            raise TypeError(
                f"{name}: trainable must be a torch.nn.Module (its parameters are trained and "
                f"checkpointed), got {type(trainable).__name__}"
            )
        if self._mode == "distribution" and not callable(getattr(trainable, "log_prob", None)):
            raise TypeError(
                f"{name}: trainable must have a log_prob method, got {type(trainable).__name__} "
                "without one (for a module mapping inputs to distributions use LayerTrainer)"
            )
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"{name}: dataset must be a map-style dataset with __len__ and __getitem__, "
                f"got {type(dataset).__name__}"
            )
        _check_int("batch_size", batch_size, 1)
        _check_int("max_epoch", max_epoch, 0)
        _check_int("num_workers", num_workers, 0)
        if len(dataset) == 0:
            raise ValueError(f"{name}: dataset must not be empty; got a dataset of length 0")
        check_item(dataset[0], self._mode, f"{name}: dataset items")
        if drop_last and len(dataset) < batch_size:
            raise ValueError(
                f"{name}: batch_size must be at most the dataset size when drop_last=True; "
                f"got batch_size={batch_size} for {len(dataset)} example(s) (no batch would "
                "run); lower batch_size or pass drop_last=False"
            )
        for label, hook in (
            ("batch_end_callback", batch_end_callback),
            ("epoch_end_callback", epoch_end_callback),
        ):
            if hook is not None and not callable(hook):
                raise TypeError(f"{label} must be callable or None, got {type(hook).__name__}")
        callbacks = list(callbacks)
        for index, callback in enumerate(callbacks):
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks[{index}] must be a pygen.train.Callback, got "
                    f"{type(callback).__name__} (pass plain functions as batch_end_callback "
                    "or epoch_end_callback)"
                )
        if grad_clip_norm is not None and (
            isinstance(grad_clip_norm, bool)
            or not isinstance(grad_clip_norm, (int, float))
            or not grad_clip_norm > 0
        ):
            raise ValueError(
                f"grad_clip_norm must be a positive number or None, got {grad_clip_norm!r}"
            )
        if amp not in (None, False, True, "bf16", "fp16"):
            raise ValueError(f"amp must be one of None, False, True, 'bf16', 'fp16'; got {amp!r}")
        if seed is not None:
            _check_int("seed", seed, 0)
        if validation_dataset is not None:
            if not hasattr(validation_dataset, "__len__"):
                raise TypeError(
                    "validation_dataset must be a map-style dataset with __len__, got "
                    f"{type(validation_dataset).__name__}"
                )
            if len(validation_dataset) == 0:
                raise ValueError("validation_dataset must not be empty; got length 0")
            check_item(validation_dataset[0], self._mode, f"{name}: validation_dataset items")
        if use_scheduler and scheduler is not None:
            raise ValueError(
                "use_scheduler=True (the Robbins-Monro schedule) and scheduler=... are "
                "exclusive; pass only one"
            )
        parameters = [p for p in trainable.parameters() if p.requires_grad]
        if optimizer is None and not parameters:
            raise ValueError(
                f"{name}: trainable has no parameters that require grad; nothing to train "
                "(wrap torch.distributions parameters in nn.Parameter inside an nn.Module)"
            )

        self.trainable = trainable
        self.dataset = dataset
        self.batch_size = batch_size
        self.max_epoch = max_epoch
        self.batch_end_callback = batch_end_callback
        self.epoch_end_callback = epoch_end_callback
        self.use_scheduler = use_scheduler
        self.dummy_run = dummy_run
        self.model_path = _check_path("model_path", model_path)
        self.checkpoint_path = _check_path("checkpoint_path", checkpoint_path)
        self.reverse_inputs = reverse_inputs
        self.callbacks = callbacks
        self.grad_clip_norm = None if grad_clip_norm is None else float(grad_clip_norm)
        self.compile = compile
        self.validation_dataset = validation_dataset
        self.seed = seed
        self.progress = progress
        self.skip_nonfinite = skip_nonfinite
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.num_workers = num_workers
        self.device = _model_device(trainable)

        if optimizer is None:
            self.optimizer = torch.optim.Adam(parameters, lr=1e-3)
        elif isinstance(optimizer, torch.optim.Optimizer):
            self.optimizer = optimizer
        elif callable(optimizer):
            built = optimizer(parameters)
            if not isinstance(built, torch.optim.Optimizer):
                raise TypeError(
                    "optimizer factory must return a torch.optim.Optimizer, got "
                    f"{type(built).__name__}"
                )
            self.optimizer = built
        else:
            raise TypeError(
                "optimizer must be a torch.optim.Optimizer, a callable params -> optimizer, "
                f"or None; got {type(optimizer).__name__}"
            )
        if use_scheduler:
            self.scheduler: Any = torch.optim.lr_scheduler.LambdaLR(self.optimizer, rm_scheduler)
        elif scheduler is None:
            self.scheduler = None
        elif hasattr(scheduler, "step") and hasattr(scheduler, "state_dict"):
            self.scheduler = scheduler
        elif callable(scheduler):
            self.scheduler = scheduler(self.optimizer)
            if not (hasattr(self.scheduler, "step") and hasattr(self.scheduler, "state_dict")):
                raise TypeError(
                    "scheduler factory must return a scheduler with step and state_dict, got "
                    f"{type(self.scheduler).__name__}"
                )
        else:
            raise TypeError(
                "scheduler must be a learning-rate scheduler, a callable optimizer -> "
                f"scheduler, or None; got {type(scheduler).__name__}"
            )

        self._amp_dtype: torch.dtype | None = None
        if amp:
            if self.device.type == "cuda":
                self._amp_dtype = torch.float16 if amp == "fp16" else torch.bfloat16
            else:
                warnings.warn(
                    f"amp={amp!r} is ignored: mixed precision is used only on CUDA and the "
                    f"model is on {self.device}",
                    RuntimeWarning,
                    stacklevel=2,
                )
        self._scaler = torch.amp.GradScaler("cuda") if self._amp_dtype == torch.float16 else None

        self._context = DistributedContext.from_environment()
        self.rank = self._context.rank
        self.world_size = self._context.world_size
        self.is_main_process = self._context.is_main_process

        self.epoch = 0
        self.batch_num = 0
        self.log_prob_item = math.nan
        self.total_log_prob = 0.0
        self.batch_len = 0
        self.batch_metrics: dict[str, float] = {}
        self.metrics: dict[str, float] = {}
        self.history = MetricsHistory()
        self.should_stop = False
        self._shuffle_seed: int | None = None
        self._epochs_done = 0
        self._batch_in_epoch = 0
        self._epoch_correct = 0.0
        self._epoch_accuracy_examples = 0.0
        self._epoch_skipped = 0
        self._checked = False
        self._accuracy_kind: AccuracyKind | None = None
        self._event_numel: int | None = None
        self._forward: Any = None

    # -- public helpers -------------------------------------------------------------------

    @property
    def model(self) -> nn.Module:
        """Alias of ``trainable``."""
        return self.trainable

    @property
    def epoch_num(self) -> int:
        """Alias of ``epoch`` (0-based index of the current epoch)."""
        return self.epoch

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly, as a plain dict (what the checkpoint holds).

        Returns:
            Model, optimizer, scheduler and grad-scaler states, all RNG states, the
            shuffle seed, counters, the epoch's running sums, the metrics history and the
            callbacks' states; loadable with ``torch.load(weights_only=True)``.
        """
        return {
            "format": CHECKPOINT_FORMAT,
            "trainable": self.trainable.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "scaler": None if self._scaler is None else self._scaler.state_dict(),
            "rng": get_rng_state(),
            "shuffle_seed": self._shuffle_seed,
            "epoch": self.epoch,
            "epochs_done": self._epochs_done,
            "batch_in_epoch": self._batch_in_epoch,
            "batch_num": self.batch_num,
            "running": {
                "total_log_prob": self.total_log_prob,
                "batch_len": self.batch_len,
                "correct": self._epoch_correct,
                "accuracy_examples": self._epoch_accuracy_examples,
                "skipped": self._epoch_skipped,
            },
            "metrics": dict(self.metrics),
            "history": self.history.state_dict(),
            "callbacks": [callback.state_dict() for callback in self.callbacks],
            "should_stop": self.should_stop,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state returned by :meth:`state_dict` (or read from a checkpoint).

        Args:
            state: the dict to restore.

        Raises:
            ValueError: if it is not a pygen.train checkpoint or was written with a
                different number of callbacks.
        """
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            found = state.get("format") if isinstance(state, dict) else type(state).__name__
            raise ValueError(
                f"state must be a pygen.train checkpoint with format {CHECKPOINT_FORMAT!r}, "
                f"got format {found!r}"
            )
        if len(state["callbacks"]) != len(self.callbacks):
            raise ValueError(
                f"the checkpoint holds the state of {len(state['callbacks'])} callback(s) but "
                f"this trainer has {len(self.callbacks)}; pass the same callbacks to resume"
            )
        self.trainable.load_state_dict(state["trainable"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self._scaler is not None and state["scaler"] is not None:
            self._scaler.load_state_dict(state["scaler"])
        self._shuffle_seed = state["shuffle_seed"]
        self.epoch = state["epoch"]
        self._epochs_done = state["epochs_done"]
        self._batch_in_epoch = state["batch_in_epoch"]
        self.batch_num = state["batch_num"]
        running = state["running"]
        self.total_log_prob = running["total_log_prob"]
        self.batch_len = running["batch_len"]
        self._epoch_correct = running["correct"]
        self._epoch_accuracy_examples = running["accuracy_examples"]
        self._epoch_skipped = running["skipped"]
        self.metrics = dict(state["metrics"])
        self.history.load_state_dict(state["history"])
        for callback, callback_state in zip(self.callbacks, state["callbacks"], strict=True):
            callback.load_state_dict(callback_state)
        self.should_stop = state["should_stop"]
        set_rng_state(state["rng"])

    # -- the loop -------------------------------------------------------------------------

    def train(self) -> None:
        """Train for ``max_epoch`` epochs (resuming from ``checkpoint_path`` if it exists).

        Raises:
            NonFiniteLogProbError: if a batch's mean log-likelihood is NaN or infinite and
                ``skip_nonfinite`` is False (no step is taken for that batch).
            ValueError: if ``log_prob`` does not return one value per example, or a
                batch is too short for this trainer.
            TypeError: if batches are not tuples, or a layer's output has no ``log_prob``.
            KeyboardInterrupt: on Ctrl-C, at the next batch boundary, after writing the
                checkpoint (when ``checkpoint_path`` is set).
        """
        context = self._context
        device = context.setup(self.device)
        if device != self.device:
            self.trainable.to(device)
            self.device = device
        try:
            self._prepare()
            loader = BatchLoader(
                self.dataset,
                self.batch_size,
                shuffle=self.shuffle,
                drop_last=self.drop_last,
                seed=self._shuffle_seed if self._shuffle_seed is not None else 0,
                rank=self.rank,
                world_size=self.world_size,
                device=self.device,
                num_workers=self.num_workers,
            )
            module: nn.Module = LogProbModule(self.trainable, self._mode)
            if context.is_distributed or self.compile:
                module = context.wrap(module, device)
                self._forward = torch.compile(module) if self.compile else module
            else:
                # the module's forward without a second nn.Module call per step
                self._forward = module.forward
            self.trainable.train()
            bar = ProgressBar(enabled=self.progress and self.is_main_process)
            self._call_hooks("on_train_start")
            with _GracefulInterrupt() as interrupt:
                self._interrupt = interrupt
                while self._epochs_done < self.max_epoch and not self.should_stop:
                    self._run_epoch(loader, bar)
            self._call_hooks("on_train_end")
        finally:
            # Drop the DistributedDataParallel wrapper while its process group is still
            # registered: freed after destroy_process_group, its reducer would hold the
            # group's last reference and tear it down holding the GIL, which a gloo worker
            # thread needs to finish: a deadlock at exit (seen with torch 2.4).
            self._forward = None
            module = None
            context.shutdown()

    def _prepare(self) -> None:
        """Resume from the checkpoint if there is one; otherwise seed and draw a shuffle seed."""
        path = self.checkpoint_path
        if path is not None and path.exists():
            self.load_state_dict(safe_load(path, map_location="cpu"))
            return
        if self.seed is not None:
            seed_everything(self.seed)
            shuffle_seed = self.seed
        else:
            shuffle_seed = int(torch.randint(0, 1 << 52, ()).item())
        # every rank must shuffle alike: rank 0's seed wins
        values = [float(shuffle_seed) if self.is_main_process else 0.0]
        self._shuffle_seed = int(self._context.sum(values, self._reduce_device())[0])

    def _reduce_device(self) -> torch.device:
        return self.device if self.device.type == "cuda" else torch.device("cpu")

    def _call_hooks(self, event: str) -> None:
        legacy = {
            "on_batch_end": self.batch_end_callback,
            "on_epoch_end": self.epoch_end_callback,
        }.get(event)
        if legacy is not None:
            legacy(self)
        for callback in self.callbacks:
            getattr(callback, event)(self)

    def _run_epoch(self, loader: BatchLoader, bar: ProgressBar) -> None:
        self.epoch = self._epochs_done
        start = self._batch_in_epoch
        if start == 0:
            self.total_log_prob = 0.0
            self.batch_len = 0
            self._epoch_correct = 0.0
            self._epoch_accuracy_examples = 0.0
            self._epoch_skipped = 0
            self._call_hooks("on_epoch_start")
        total = 1 if self.dummy_run else len(loader)
        bar.start_epoch(self.epoch, self.max_epoch, total)
        if start < total:
            for batch in loader.batches(self.epoch, start=start):
                self._step(batch)
                bar.update(self._batch_in_epoch, self.total_log_prob / max(self.batch_len, 1))
                if self._interrupt.requested:
                    if self.checkpoint_path is not None and self.is_main_process:
                        atomic_save(self.state_dict(), self.checkpoint_path)
                    raise KeyboardInterrupt
                if self._batch_in_epoch >= total:
                    break
        self._end_epoch(bar)

    def _step(self, batch: Any) -> None:
        if not self._checked:
            check_item(batch, self._mode, f"{type(self).__name__}: batches")
        inputs, target = split_batch(batch, self._mode, self.reverse_inputs)
        size = batch_length(target)
        optimizer = self.optimizer
        optimizer.zero_grad(set_to_none=True)
        if self._amp_dtype is not None:
            with torch.autocast(device_type=self.device.type, dtype=self._amp_dtype):
                log_prob, output = self._forward(inputs, target)
        else:
            log_prob, output = self._forward(inputs, target)
        if not isinstance(log_prob, torch.Tensor) or log_prob.shape != (size,):
            where = f"{type(self).__name__} (epoch {self.epoch}, batch {self._batch_in_epoch + 1})"
            check_log_prob_shape(log_prob, size, where)
        mean = log_prob.mean()
        loss = -mean
        if self._scaler is not None:
            self._scaler.scale(loss).backward()
        else:
            loss.backward()
        if not self._checked:
            self._accuracy_kind = accuracy_kind(output, target)
            self._event_numel = event_numel(target, self._mode)
            self._checked = True
        kind = self._accuracy_kind
        if kind is not None:
            correct = correct_count(output, target, kind)
            if self.device.type == "cpu":  # no device sync to save: plain reads are cheapest
                value, correct_value = mean.item(), correct.item()
            else:  # one device-to-host transfer for both numbers
                value, correct_value = torch.stack([mean.detach().float(), correct]).tolist()
        else:
            value = mean.item()
            correct_value = 0.0
        self._batch_in_epoch += 1
        self.batch_num += 1
        if not math.isfinite(value):
            if not self.skip_nonfinite:
                raise NonFiniteLogProbError(self.epoch, self._batch_in_epoch, self.batch_num, value)
            optimizer.zero_grad(set_to_none=True)
            self._epoch_skipped += 1
            return
        if self._scaler is not None:
            if self.grad_clip_norm is not None:
                self._scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(self.trainable.parameters(), self.grad_clip_norm)
            self._scaler.step(optimizer)
            self._scaler.update()
        else:
            if self.grad_clip_norm is not None:
                nn.utils.clip_grad_norm_(self.trainable.parameters(), self.grad_clip_norm)
            optimizer.step()
        self.log_prob_item = value
        self.total_log_prob += value
        self.batch_len += 1
        metrics = {"log_prob": value}
        if self._event_numel is not None:
            metrics["bits_per_dim"] = -value / (self._event_numel * LN2)
        if kind is not None:
            metrics["accuracy"] = correct_value / size
            self._epoch_correct += correct_value
            self._epoch_accuracy_examples += size
        self.batch_metrics = metrics
        self.history.add_batch({"epoch": self.epoch, "batch": self.batch_num, **metrics})
        if self.batch_end_callback is not None:
            self.batch_end_callback(self)
        for callback in self.callbacks:
            callback.on_batch_end(self)

    def _end_epoch(self, bar: ProgressBar) -> None:
        total, count, correct, accuracy_examples, skipped = self._context.sum(
            [
                self.total_log_prob,
                float(self.batch_len),
                self._epoch_correct,
                self._epoch_accuracy_examples,
                float(self._epoch_skipped),
            ],
            self._reduce_device(),
        )
        log_prob = total / count if count > 0 else math.nan
        metrics: dict[str, float] = {"log_prob": log_prob}
        if self._event_numel is not None:
            metrics["bits_per_dim"] = -log_prob / (self._event_numel * LN2)
        if self._accuracy_kind is not None and accuracy_examples > 0:
            metrics["accuracy"] = correct / accuracy_examples
        metrics["lr"] = float(self.optimizer.param_groups[0]["lr"])
        if self.skip_nonfinite:
            metrics["skipped_batches"] = skipped
        if self.validation_dataset is not None:
            metrics.update(self._validate())
        self.metrics = metrics
        self.history.add_epoch({"epoch": self.epoch, **metrics})
        bar.end_epoch(metrics)
        self._call_hooks("on_epoch_end")
        if self.scheduler is not None:
            if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                self.scheduler.step(-metrics.get("val_log_prob", metrics["log_prob"]))
            else:
                self.scheduler.step()
        self._epochs_done = self.epoch + 1
        self._batch_in_epoch = 0
        if self.is_main_process:
            if self.checkpoint_path is not None:
                atomic_save(self.state_dict(), self.checkpoint_path)
            if self.model_path is not None:
                atomic_save(self.trainable.state_dict(), self.model_path)

    def _validate(self) -> dict[str, float]:
        assert self.validation_dataset is not None
        loader = BatchLoader(
            self.validation_dataset,
            self.batch_size,
            shuffle=False,
            drop_last=False,
            rank=self.rank,
            world_size=self.world_size,
            device=self.device,
            num_workers=self.num_workers,
        )
        with _ModeRestorer(self.trainable):
            sums = _evaluation_sums(
                self.trainable,
                loader.batches(0),
                self._mode,
                self.reverse_inputs,
                f"{type(self).__name__} validation",
            )
        return _metrics_from_sums(
            self._context.sum(sums[:4], self._reduce_device()) + sums[4:], "val_"
        )


class DistributionTrainer(_Trainer):
    """Fits a distribution by maximising ``trainable.log_prob(x)`` over a dataset.

    Each dataset item is a tuple whose first element ``x`` is modelled (so labelled
    datasets such as ``(image, label)`` work unchanged). ``log_prob`` must return one
    value per example (shape ``[batch]``); the loss is minus its mean.

    The first nine arguments keep the original pygen positions; the rest are
    keyword-only. See the module documentation for the state a callback sees and the
    order of events.

    Args:
        trainable: an ``nn.Module`` with ``log_prob(x)``.
        dataset: a map-style dataset of tuples; in-memory tensor datasets are batched by
            indexing (see :mod:`pygen.train.batching`).
        batch_size: examples per batch (per process under ``torchrun``).
        max_epoch: the number of epochs.
        batch_end_callback: legacy callable ``f(trainer)`` run after every batch.
        epoch_end_callback: legacy callable ``f(trainer)`` run after every epoch.
        use_scheduler: multiply the learning rate by :func:`rm_scheduler` (epoch).
        dummy_run: run one batch per epoch (a smoke test of the whole program).
        model_path: where to write ``trainable.state_dict()`` after every epoch
            (atomically; rank 0 only).
        callbacks: :class:`~pygen.train.callback.Callback` objects, called in order.
        optimizer: an optimizer over the trainable's parameters, or a factory
            ``params -> optimizer``; default Adam with learning rate 1e-3.
        scheduler: a learning-rate scheduler stepped once per epoch, or a factory
            ``optimizer -> scheduler``. ``ReduceLROnPlateau`` is stepped with minus the
            validation (else training) log-likelihood.
        grad_clip_norm: clip the global gradient norm to this value.
        amp: mixed precision on CUDA: ``"bf16"`` (or True) or ``"fp16"`` (with a
            gradient scaler). Ignored with a warning on other devices.
        compile: run the log-likelihood through :func:`torch.compile`.
        validation_dataset: evaluated at every epoch end (``val_*`` metrics).
        seed: seeds torch, ``random`` and numpy at the start of a fresh run and the
            shuffles; None draws the shuffle seed from torch's generator.
        progress: show a progress display on stderr (rank 0 only).
        checkpoint_path: write a resumable checkpoint here at every epoch end and on
            Ctrl-C; :meth:`train` resumes from it when the file exists.
        skip_nonfinite: skip batches whose mean log-likelihood is NaN/inf instead of
            raising :class:`~pygen.train.errors.NonFiniteLogProbError`.
        shuffle: reshuffle the data every epoch (as the original did).
        drop_last: drop the last incomplete batch (as the original did).
        num_workers: DataLoader workers for datasets that are not in-memory tensors.

    Raises:
        TypeError: for arguments of the wrong kind (trainable not an ``nn.Module`` or
            without ``log_prob``, items not tuples, callbacks not ``Callback`` objects).
        ValueError: for bad values (empty dataset, ``batch_size`` larger than the data
            with ``drop_last``, non-positive sizes, missing folders, both
            ``use_scheduler`` and ``scheduler``).

    Example:
        >>> import torch
        >>> from torch.utils.data import TensorDataset
        >>> from pygen.train import DistributionTrainer
        >>> class Gaussian(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.loc = torch.nn.Parameter(torch.zeros(()))
        ...
        ...     def log_prob(self, x):
        ...         return torch.distributions.Normal(self.loc, 1.0).log_prob(x)
        >>> data = TensorDataset(3.0 + torch.randn(512))
        >>> model = Gaussian()
        >>> trainer = DistributionTrainer(
        ...     model,
        ...     data,
        ...     batch_size=512,
        ...     max_epoch=40,
        ...     progress=False,
        ...     optimizer=lambda params: torch.optim.SGD(params, lr=0.5),
        ... )
        >>> trainer.train()
        >>> # the maximum-likelihood estimate of the mean is the sample mean
        >>> abs(model.loc.item() - data.tensors[0].mean().item()) < 1e-4
        True
        >>> trainer.batch_num, len(trainer.history.epochs), sorted(trainer.metrics)
        (40, 40, ['bits_per_dim', 'log_prob', 'lr'])
    """

    _mode: Mode = "distribution"


class LayerTrainer(_Trainer):
    """Fits a layer (input -> distribution) by maximising ``trainable(x).log_prob(y)``.

    Each dataset item is a tuple ``(x, y, ...)``: the layer maps ``x`` to a distribution
    that models ``y`` (``reverse_inputs=True`` models ``x`` given ``y``). The output's
    ``log_prob(y)`` must return one value per example (shape ``[batch]``). Accuracy is
    reported for categorical outputs; see the module documentation for the metrics, the
    state a callback sees and the order of events.

    Args:
        trainable: an ``nn.Module`` whose output has ``log_prob``.
        dataset: a map-style dataset of tuples ``(x, y, ...)``.
        batch_size: examples per batch (per process under ``torchrun``).
        max_epoch: the number of epochs.
        batch_end_callback: legacy callable ``f(trainer)`` run after every batch.
        epoch_end_callback: legacy callable ``f(trainer)`` run after every epoch.
        use_scheduler: multiply the learning rate by :func:`rm_scheduler` (epoch).
        dummy_run: run one batch per epoch.
        model_path: where to write ``trainable.state_dict()`` after every epoch.
        reverse_inputs: model the first element given the second.
        **options: the keyword-only options of :class:`DistributionTrainer`
            (``callbacks``, ``optimizer``, ``scheduler``, ``grad_clip_norm``, ``amp``,
            ``compile``, ``validation_dataset``, ``seed``, ``progress``,
            ``checkpoint_path``, ``skip_nonfinite``, ``shuffle``, ``drop_last``,
            ``num_workers``).

    Raises:
        TypeError: as :class:`DistributionTrainer`; also, at the first batch, if the
            layer's output has no ``log_prob``.
        ValueError: as :class:`DistributionTrainer`; also, at the first batch, if
            ``log_prob`` does not return shape ``[batch]``.

    Example:
        >>> import torch
        >>> from torch.utils.data import TensorDataset
        >>> from pygen.train import LayerTrainer
        >>> class Softmax(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.linear = torch.nn.Linear(2, 2)
        ...
        ...     def forward(self, x):
        ...         return torch.distributions.Categorical(logits=self.linear(x))
        >>> x = torch.randn(256, 2)
        >>> data = TensorDataset(x, (x[:, 0] > 0).long())
        >>> trainer = LayerTrainer(
        ...     Softmax(),
        ...     data,
        ...     max_epoch=10,
        ...     progress=False,
        ...     seed=0,
        ...     optimizer=lambda params: torch.optim.Adam(params, lr=0.05),
        ... )
        >>> trainer.train()
        >>> trainer.metrics["accuracy"] > 0.9, sorted(trainer.metrics)
        (True, ['accuracy', 'log_prob', 'lr'])
    """

    _mode: Mode = "layer"

    def __init__(
        self,
        trainable: nn.Module,
        dataset: Dataset[Any],
        batch_size: int = 32,
        max_epoch: int = 10,
        batch_end_callback: Callable[[Any], Any] | None = None,
        epoch_end_callback: Callable[[Any], Any] | None = None,
        use_scheduler: bool = False,
        dummy_run: bool = False,
        model_path: PathOption = None,
        reverse_inputs: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(
            trainable,
            dataset,
            batch_size,
            max_epoch,
            batch_end_callback,
            epoch_end_callback,
            use_scheduler,
            dummy_run,
            model_path,
            reverse_inputs=reverse_inputs,
            **options,
        )
