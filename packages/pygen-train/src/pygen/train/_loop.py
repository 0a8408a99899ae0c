"""The loop of one :meth:`train` call: epochs, their updates, the step ends, the epoch ends.

:class:`EpochLoop` reads the trainer's settings and state live (as Lightning's loops hold
their trainer): the trainer owns the arguments, the parts built from them and the state
a callback reads; the loop only counts, dispatches and decides when to validate, save
and stop. One screen per phase:

* an update (:meth:`EpochLoop._step`): :class:`~pygen.train._update.OptimizerUpdate`'s
  result counted into the run state, then the EMA, a per-step scheduler, the batch
  metrics (kept on the device) and ``on_batch_end``; a non-finite update raises
  :class:`~pygen.train.errors.NonFiniteLogProbError` or is skipped;
* the step end (:meth:`EpochLoop._after_step`): step validation, a stop signal (the
  checkpoint, then KeyboardInterrupt or TrainingPreempted), ``max_steps`` and
  ``time_limit``, step checkpoints;
* the epoch end (:meth:`EpochLoop._end_epoch`): the epoch's metrics over all ranks,
  validation, history, ``on_epoch_end``, the epoch scheduler, the checkpoint and
  ``model_path``.
"""

from __future__ import annotations

import math
import signal
import time
from typing import Any

import torch

from pygen.train._metrics import bits_metrics, means_from_sums
from pygen.train._signals import report_unsaved
from pygen.train._update import OptimizerUpdate, UpdateResult
from pygen.train.batching import BatchLoader
from pygen.train.checkpoint import atomic_save
from pygen.train.errors import NonFiniteLogProbError, TrainingPreempted
from pygen.train.progress import ProgressBar
from pygen.train.state import StopReason

__all__: list[str] = []


def limit_reached(trainer: Any) -> StopReason | None:
    """The limit the trainer's run has reached before its next epoch, or None."""
    run = trainer._run
    if run.should_stop:
        return "should_stop"
    if trainer.max_steps is not None and run.global_step >= trainer.max_steps:
        return "max_steps"
    if run.epochs_done >= trainer.max_epoch:
        return "max_epoch"
    return None


class EpochLoop:
    """Runs ``trainer``'s epochs until a limit is reached (see the module docs).

    Args:
        trainer: the trainer (``DistributionTrainer`` or ``LayerTrainer``).
        loader: the training batches.
        bar: the progress display.
        update: runs each optimizer update.
        started: the :func:`time.monotonic` time the run started (the last checkpoint's
            clock starts there too).
    """

    def __init__(
        self,
        trainer: Any,
        loader: BatchLoader,
        bar: ProgressBar,
        update: OptimizerUpdate,
        started: float,
    ) -> None:
        self.trainer = trainer
        self.loader = loader
        self.bar = bar
        self.update = update
        self.last_checkpoint = started
        self._distributed = trainer._context.is_distributed
        self._batch_end = trainer._handlers["on_batch_end"]
        # whether a step end has more to check than a stop signal and the clock
        self._step_checks = any(
            option is not None
            for option in (
                trainer.validate_every_n_steps,
                trainer.max_steps,
                trainer.checkpoint_every_n_steps,
                trainer.checkpoint_every_seconds,
            )
        )

    def run(self) -> None:
        """Epochs until a limit is reached; ``trainer.stop_reason`` then says which."""
        trainer = self.trainer
        while trainer.stop_reason is None:
            trainer.stop_reason = limit_reached(trainer)
            if trainer.stop_reason is None:
                self._epoch()

    def _epoch(self) -> None:
        trainer, loader, bar = self.trainer, self.loader, self.bar
        run = trainer._run
        run.epoch = run.epochs_done
        if run.batch_in_epoch == 0:
            trainer._running.reset()
            trainer._call_hooks("on_epoch_start")
        total = 1 if trainer.dummy_run else len(loader)
        bar.start_epoch(run.epoch, trainer.max_epoch, total)
        started = (time.monotonic(), trainer._running.examples)  # nothing pending here
        group: list[Any] = []
        accumulate = trainer.accumulate_grad_batches
        if run.batch_in_epoch < total:
            for batch in loader.batches(run.epoch, start=run.batch_in_epoch):
                group.append(batch)
                remaining = total - run.batch_in_epoch
                if len(group) < accumulate and len(group) < remaining:
                    continue
                short = len(group) > 1 and len(group) == remaining and loader.short_last
                result = self._step(group, loader.divisors(len(group)) if short else None)
                group = []
                if bar.due(run.batch_in_epoch):
                    self._show_progress(started)
                if self._after_step(result):
                    return
                if run.batch_in_epoch >= total:
                    break
        self._end_epoch()

    def _show_progress(self, started: tuple[float, int]) -> None:
        """Draw the running objective, its bits per dimension and the throughput."""
        trainer = self.trainer
        running = trainer._running
        running.flush(trainer._history)
        name = trainer.objective.name
        mean = running.sums[0] / running.examples if running.examples else math.nan
        bits = bits_metrics({name: mean}, running.numel)
        seconds = time.monotonic() - started[0]
        self.bar.update(
            trainer._run.batch_in_epoch,
            mean,
            name=name,
            bits_per_dim=next(iter(bits.values()), None),
            step=trainer._run.global_step,
            examples_per_second=(running.examples - started[1]) / seconds if seconds else None,
        )

    def _step(self, batches: list[Any], divisors: list[float] | None) -> UpdateResult:
        """One optimizer update from ``batches``, counted and dispatched."""
        trainer = self.trainer
        run, running = trainer._run, trainer._running
        count = len(batches)
        result = self.update(batches, divisors)
        if not running.names:  # a fresh run's first update
            running.names = result.names
            running.numel = trainer.objective.event_numel(batches[0])
            running.reset()
        first_batch = run.batch_in_epoch
        run.batch_in_epoch += count
        run.batch_num += count
        bad = result.nonfinite
        if bad is not None:
            if not trainer.skip_nonfinite:
                raise NonFiniteLogProbError(
                    run.epoch,
                    first_batch + bad.batch,
                    run.batch_num - count + bad.batch,
                    bad.value,
                    bad.ranks,
                    trainer.objective.name,
                )
            trainer.optimizer.zero_grad(set_to_none=True)
            running.skipped += count
            return result
        run.global_step += 1
        if trainer.ema is not None:
            trainer.ema.update()
        if trainer.scheduler is not None and trainer.scheduler_interval == "step":
            trainer.scheduler.step()
        tensors = result.tensors
        running.add(tensors, tensors[0].shape[0], run.epoch, run.batch_num, run.global_step)
        if running.pending >= trainer.log_every_n_steps:
            running.flush(trainer._history)
        for handler in self._batch_end:  # trainer._call_hooks("on_batch_end"), bound once
            handler(trainer)
        return result

    def _after_step(self, result: UpdateResult) -> bool:
        """Step-level validation, checkpoints and stops; True when training must stop."""
        trainer = self.trainer
        stop_signal = result.stop_signal  # agreed by all ranks at the update
        if not self._distributed:  # a signal during this step's hooks counts
            stop_signal = trainer._signals.received
        if not (stop_signal or result.out_of_time or self._step_checks):
            return False  # most steps: nothing more to do
        step = trainer._run.global_step
        every = trainer.validate_every_n_steps
        if result.stepped and every is not None and step % every == 0:
            val = self._validate()
            records = trainer.history.batches
            if records and records[-1].get("step") == step:
                records[-1].update(val)
            if not self._distributed:  # a signal during the validation counts
                stop_signal = trainer._signals.received
        if stop_signal:
            self._save_checkpoint()
            if stop_signal == signal.SIGINT:
                raise KeyboardInterrupt
            if trainer.checkpoint_path is None and trainer.is_main_process:
                report_unsaved(stop_signal, step)
            raise TrainingPreempted(stop_signal, step)
        stop: StopReason | None = None
        if trainer.max_steps is not None and step >= trainer.max_steps:
            stop = "max_steps"
        elif result.out_of_time:
            stop = "time_limit"
        every = trainer.checkpoint_every_n_steps
        seconds = trainer.checkpoint_every_seconds
        due = (result.stepped and every is not None and step % every == 0) or (
            seconds is not None and time.monotonic() - self.last_checkpoint >= seconds
        )
        if stop is not None:
            trainer.stop_reason = stop
            self._save_checkpoint()
            self._save_model()
            return True
        if due:
            self._save_checkpoint()
        return False

    def _end_epoch(self) -> None:
        trainer = self.trainer
        run, running = trainer._run, trainer._running
        running.flush(trainer._history)
        names = running.names
        reduced = trainer._context.sum(
            [*running.sums, float(running.examples), float(running.skipped)], trainer.device
        )
        metrics = means_from_sums(names, reduced[: len(names)], reduced[len(names)], running.numel)
        metrics["lr"] = float(trainer.optimizer.param_groups[0]["lr"])
        if trainer.skip_nonfinite:
            metrics["skipped_batches"] = reduced[len(names) + 1]
        if trainer._validation is not None and trainer.validate_every_epoch:
            metrics.update(self._validate())
        run.metrics = metrics
        trainer._history.add_epoch({"epoch": run.epoch, **metrics})
        self.bar.end_epoch(metrics, run.batch_in_epoch)
        trainer._call_hooks("on_epoch_end")
        scheduler = trainer.scheduler
        if scheduler is not None and trainer.scheduler_interval == "epoch":
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                validation = trainer._validation
                watched = "" if validation is None else f"val_{validation.name}"
                scheduler.step(-metrics.get(watched, metrics[names[0]]))
            else:
                scheduler.step()
        run.epochs_done = run.epoch + 1
        run.batch_in_epoch = 0
        self._save_checkpoint()
        self._save_model()

    def _validate(self) -> dict[str, float]:
        """A pass over the validation data, then ``on_validation_end``: ``val_*``."""
        trainer = self.trainer
        val = trainer._validation(trainer.trainable, trainer.ema, trainer.device)
        trainer._run.val_metrics = val
        trainer._call_hooks("on_validation_end")
        return val

    def _save_checkpoint(self) -> None:
        trainer = self.trainer
        self.last_checkpoint = time.monotonic()
        if trainer.checkpoint_path is not None and trainer.is_main_process:
            atomic_save(trainer.state_dict(), trainer.checkpoint_path)

    def _save_model(self) -> None:
        trainer = self.trainer
        if trainer.model_path is not None and trainer.is_main_process:
            atomic_save(trainer.trainable.state_dict(), trainer.model_path)
