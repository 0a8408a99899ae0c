"""Maximum-likelihood training loops: :class:`DistributionTrainer` and :class:`LayerTrainer`.

``DistributionTrainer`` maximises ``trainable.log_prob(x)`` for the first element ``x`` of
each dataset item; ``LayerTrainer`` maximises ``trainable(x).log_prob(y)`` for items
``(x, y, ...)`` (or ``(y, x, ...)`` with ``reverse_inputs=True``). Either maximises any
other objective given as ``objective=f`` with ``f(model, batch)`` returning a per-example
tensor, or that tensor and a dict of per-example metrics (see
:mod:`pygen.train.objective`; name a bound ``"elbo"``, never ``"log_prob"``).

What a callback sees is :class:`pygen.train.state.TrainerState`. Metrics:
``batch_metrics`` and ``metrics`` hold the mean per example of the objective (under its
name, ``"log_prob"`` for the built-in objectives) and of each metric it returns
(``"accuracy"`` for categorical layers), and bits per dimension for likelihoods and
bounds (:mod:`pygen.train.metric_names`): ``-value / (D ln 2)`` where ``D`` is the number
of elements of one modelled example (``LayerTrainer``: of one target example when it is
floating point or has more than one element; a single class label gets none). Epoch
metrics add ``"lr"`` (the rate in use at the epoch's end, before an epoch scheduler
steps), ``"skipped_batches"`` (with ``skip_nonfinite=True``) and the ``val_*`` figures of
a validation at the epoch's end. Under ``torchrun`` batch metrics are this rank's and
epoch metrics are averaged over all ranks. Per-batch figures stay on the device until
read: ``log_every_n_steps`` (or a callback reading ``batch_metrics``) decides when.

Order of events::

    on_train_start
    per epoch: on_epoch_start
               per optimizer update (accumulate_grad_batches batches: forward, backward),
                   the non-finite check (joint over ranks), optimizer step, EMA update,
                   per-step scheduler, batch_end_callback, on_batch_end (list order);
                   every validate_every_n_steps: validation -> on_validation_end;
                   step checkpoints; stop checks (max_steps, time_limit, signals)
               training metrics -> validation -> on_validation_end -> metrics/history
               -> epoch_end_callback -> on_epoch_end (list order) -> epoch scheduler
               -> checkpoint and model_path (last)
    on_train_end

Stopping: ``max_epoch`` and ``max_steps``, whichever comes first; ``time_limit`` seconds of
this call; ``should_stop`` after the current epoch; Ctrl-C (KeyboardInterrupt), SIGTERM or
SIGUSR1 (:class:`~pygen.train.errors.TrainingPreempted`, exit status 128 + signal) after
the current update, with the checkpoint written first. All ranks stop at the same step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch
from torch import nn
from torch.utils.data import Dataset

from pygen.train._finished import report_finished_run
from pygen.train._forward import build_forward
from pygen.train._loop import EpochLoop, limit_reached
from pygen.train._metrics import RunningMetrics
from pygen.train._options import (
    AmpOption,
    OptimizerFactory,
    PathOption,
    SchedulerFactory,
    amp_dtype,
    build_hooks,
    build_optimizer,
    build_scheduler,
    check_arguments,
    check_distinct_files,
    check_path,
    check_trainable,
    check_writable_file,
    model_device,
    rm_scheduler,
)
from pygen.train._run_state import RunState
from pygen.train._signals import DeferredSignals, warn_unsaved_preemption
from pygen.train._state_view import TrainerStateView
from pygen.train._trainer_checkpoint import restore_trainer, resume, trainer_state
from pygen.train._update import OptimizerUpdate
from pygen.train._validation import Validation
from pygen.train.batching import BatchLoader
from pygen.train.callback import Callback, bound_hooks
from pygen.train.distributed import DistributedContext
from pygen.train.ema import ExponentialMovingAverage
from pygen.train.history import MetricsHistory
from pygen.train.objective import (
    LayerLogProbObjective,
    LogProbObjective,
    Objective,
    ObjectiveFunction,
    as_objective,
)
from pygen.train.progress import ProgressBar
from pygen.train.seeding import seed_everything
from pygen.train.state import StopReason

__all__ = ["DistributionTrainer", "LayerTrainer", "rm_scheduler"]

_DEFAULT_LOG_EVERY = 50


class _Trainer(TrainerStateView):
    """What :class:`DistributionTrainer` and :class:`LayerTrainer` share.

    The arguments and the parts built from them, the checkpoint state and :meth:`train`
    (set-up and tear-down); the epochs run in :class:`pygen.train._loop.EpochLoop`, an
    update in :class:`pygen.train._update.OptimizerUpdate`, validation in
    :class:`pygen.train._validation.Validation`, and what a callback reads is
    :class:`pygen.train._state_view.TrainerStateView`.
    """

    def _default_objective(self, reverse_inputs: bool) -> Objective:
        return LogProbObjective()

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
        objective: Objective | ObjectiveFunction | None = None,
        callbacks: Sequence[Callback] = (),
        optimizer: torch.optim.Optimizer | OptimizerFactory | None = None,
        scheduler: Any | SchedulerFactory | None = None,
        scheduler_interval: Literal["epoch", "step"] = "epoch",
        grad_clip_norm: float | None = None,
        amp: AmpOption = None,
        compile: bool = False,
        validation_dataset: Dataset[Any] | None = None,
        validation_objective: Objective | ObjectiveFunction | None = None,
        validate_every_n_steps: int | None = None,
        validate_every_epoch: bool = True,
        seed: int | None = None,
        progress: bool = True,
        checkpoint_path: PathOption = None,
        checkpoint_every_n_steps: int | None = None,
        checkpoint_every_seconds: float | None = None,
        max_steps: int | None = None,
        time_limit: float | None = None,
        accumulate_grad_batches: int = 1,
        ema_decay: float | None = None,
        log_every_n_steps: int = _DEFAULT_LOG_EVERY,
        skip_nonfinite: bool = False,
        check_finite: bool = True,
        shuffle: bool = True,
        drop_last: bool = True,
        num_workers: int = 0,
        persistent_workers: bool = False,
    ) -> None:
        name = type(self).__name__
        check_trainable(name, trainable)
        self.objective = (
            self._default_objective(reverse_inputs)
            if objective is None
            else as_objective(objective)
        )
        self.objective.check_model(trainable, name)
        check_arguments(
            owner=name,
            objective=self.objective,
            dataset=dataset,
            batch_size=batch_size,
            max_epoch=max_epoch,
            max_steps=max_steps,
            num_workers=num_workers,
            persistent_workers=persistent_workers,
            accumulate_grad_batches=accumulate_grad_batches,
            validate_every_n_steps=validate_every_n_steps,
            checkpoint_every_n_steps=checkpoint_every_n_steps,
            log_every_n_steps=log_every_n_steps,
            checkpoint_every_seconds=checkpoint_every_seconds,
            time_limit=time_limit,
            grad_clip_norm=grad_clip_norm,
            seed=seed,
            drop_last=drop_last,
            has_validation=validation_dataset is not None,
            validation_objective=validation_objective,
            checkpoint_path=checkpoint_path,
            skip_nonfinite=skip_nonfinite,
            check_finite=check_finite,
        )
        self.callbacks, self._hooks = build_hooks(
            batch_end_callback, epoch_end_callback, callbacks, name
        )
        self.validation_objective = (
            self.objective if validation_objective is None else as_objective(validation_objective)
        )
        self._context = DistributedContext.from_environment()
        self._validation = None
        if validation_dataset is not None:
            self._validation = Validation(
                validation_dataset,
                self.validation_objective,
                self.objective,
                trainable,
                batch_size=batch_size,
                context=self._context,
                num_workers=num_workers,
                check_finite=check_finite,
                where=name,
            )
        self.optimizer = build_optimizer(optimizer, trainable, name)
        self.trainable = trainable
        self.dataset = dataset
        self.batch_size = batch_size
        self.max_epoch = max_epoch
        self.max_steps = max_steps
        self.batch_end_callback = batch_end_callback
        self.epoch_end_callback = epoch_end_callback
        self.use_scheduler = use_scheduler
        self.dummy_run = dummy_run
        self.model_path = check_path(name, "model_path", model_path)
        self.reverse_inputs = reverse_inputs
        self.grad_clip_norm = grad_clip_norm
        self.compile = compile
        self.validation_dataset = validation_dataset
        self.validate_every_n_steps = validate_every_n_steps
        self.validate_every_epoch = validate_every_epoch
        self.checkpoint_path = check_writable_file(name, "checkpoint_path", checkpoint_path)
        check_distinct_files(name, self.checkpoint_path, self.model_path, self._hooks)
        self.checkpoint_every_n_steps = checkpoint_every_n_steps
        self.checkpoint_every_seconds = checkpoint_every_seconds
        self.time_limit = time_limit
        self.accumulate_grad_batches = accumulate_grad_batches
        self.log_every_n_steps = log_every_n_steps
        self.seed = seed
        self.progress = progress
        self.skip_nonfinite = skip_nonfinite
        self.check_finite = check_finite
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.num_workers = num_workers
        self.persistent_workers = persistent_workers
        self.device = model_device(trainable)
        self.scheduler_interval = scheduler_interval
        self.scheduler: Any = build_scheduler(
            use_scheduler, scheduler, self.optimizer, scheduler_interval, name
        )
        self._amp_dtype = amp_dtype(amp, self.device, name)
        self._scaler = torch.amp.GradScaler("cuda") if self._amp_dtype == torch.float16 else None
        self.ema = None if ema_decay is None else ExponentialMovingAverage(trainable, ema_decay)
        self.rank = self._context.rank
        self.world_size = self._context.world_size
        self.is_main_process = self._context.is_main_process

        self._run = RunState()
        self._running = RunningMetrics()
        self._history = MetricsHistory()
        self.stop_reason: StopReason | None = None
        self._signals = DeferredSignals()

    # -- checkpoints ------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly, as a plain dict (what the checkpoint holds).

        Returns:
            Model, optimizer, scheduler, grad-scaler and EMA states, all RNG states, the
            run counters, the epoch's running sums, the metrics history and the
            callbacks' states; loadable with ``torch.load(weights_only=True)``.
        """
        self._running.flush(self._history)
        return trainer_state(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state returned by :meth:`state_dict` (or read from a checkpoint).

        Args:
            state: the dict to restore.

        Raises:
            ValueError: if it cannot resume this trainer (checked before anything is
                loaded, see :mod:`pygen.train._checkpoint_checks`): not a pygen.train
                checkpoint, a stateful callback missing, EMA or ``ema_decay``, the
                optimizer class, the objective's name, or (mid-epoch) ``batch_size`` /
                the number of processes unlike this trainer's.
        """
        restore_trainer(self, state)

    # -- training -----------------------------------------------------------------------------

    def train(self) -> None:
        """Train until a limit is reached (resuming from ``checkpoint_path`` if it exists).

        ``stop_reason`` then says which limit: ``"max_epoch"``, ``"max_steps"``,
        ``"time_limit"`` or ``"should_stop"``.

        Raises:
            NonFiniteLogProbError: if a batch's mean objective is NaN or infinite and
                ``skip_nonfinite`` is False (no step is taken for that batch).
            ValueError: if the objective does not return one value per example, or a
                batch is too short for this trainer.
            TypeError: if batches are not tuples, or a layer's output has no ``log_prob``.
            KeyboardInterrupt: on Ctrl-C, after the current update and the checkpoint.
            TrainingPreempted: on SIGTERM or SIGUSR1, after the current update and the
                checkpoint (a SystemExit with status 128 + the signal number).
        """
        context = self._context
        device = context.setup(self.device)
        if device != self.device:
            self.trainable.to(device)
            self.device = device
        self.stop_reason = None
        loader: BatchLoader | None = None
        update: OptimizerUpdate | None = None
        forward = ddp = None
        try:
            self._prepare()
            if self._validation is not None:
                self._validation.check_first_batch(self.trainable, self.device)
            loader = BatchLoader(
                self.dataset,
                self.batch_size,
                shuffle=self.shuffle,
                drop_last=self.drop_last,
                seed=self._run.shuffle_seed if self._run.shuffle_seed is not None else 0,
                rank=self.rank,
                world_size=self.world_size,
                device=self.device,
                num_workers=self.num_workers,
                persistent_workers=self.persistent_workers,
            )
            where = type(self).__name__
            forward, ddp = build_forward(
                self.trainable, self.objective, context, device, compile=self.compile, where=where
            )
            self.trainable.train()
            bar = ProgressBar(enabled=self.progress and self.is_main_process)
            self._handlers = bound_hooks(self._hooks)  # bound for this run
            self._call_hooks("on_train_start")
            if self.checkpoint_path is None and self.is_main_process:
                warn_unsaved_preemption(where)
            if self.is_main_process:
                report_finished_run(where, self._run, limit_reached(self), self.checkpoint_path)
            started = time.monotonic()
            update = OptimizerUpdate(
                self.trainable,
                self.objective,
                self.optimizer,
                forward,
                ddp,
                context,
                device,
                amp_dtype=self._amp_dtype,
                scaler=self._scaler,
                grad_clip_norm=self.grad_clip_norm,
                check_finite=self.check_finite,
                signals=self._signals,
                deadline=None if self.time_limit is None else started + self.time_limit,
                metric_names=self._running.names,
                where=where,
            )
            forward = ddp = None  # the update holds the only references (see below)
            with self._signals:
                EpochLoop(self, loader, bar, update, started).run()
            self._call_hooks("on_train_end")
        finally:
            # Drop the DistributedDataParallel wrapper while its process group is still
            # registered: freed after destroy_process_group, its reducer would hold the
            # group's last reference and tear it down holding the GIL, which a gloo worker
            # thread needs to finish: a deadlock at exit (seen with torch 2.4).
            forward = ddp = None
            if update is not None:
                update.close()  # drops its forward and DistributedDataParallel
            if loader is not None:
                loader.close()
            context.shutdown()

    def _prepare(self) -> None:
        """Resume from the checkpoint if there is one; otherwise seed and draw a shuffle seed."""
        path = self.checkpoint_path
        if path is not None and path.exists():
            resume(self, path)
            return
        if self.seed is not None:
            seed_everything(self.seed)
            shuffle_seed = self.seed
        else:
            shuffle_seed = int(torch.randint(0, 1 << 52, (), device="cpu").item())
        # every rank must shuffle alike: rank 0's seed wins
        values = [float(shuffle_seed) if self.is_main_process else 0.0]
        self._run.shuffle_seed = int(self._context.sum(values, self.device)[0])

    def _call_hooks(self, event: str) -> None:
        for handler in self._handlers[event]:
            handler(self)


class DistributionTrainer(_Trainer):
    """Fits a distribution by maximising ``trainable.log_prob(x)`` over a dataset.

    Each dataset item is a tuple whose first element ``x`` is modelled (so labelled
    datasets such as ``(image, label)`` work unchanged). ``log_prob`` must return one
    value per example (shape ``[batch]``); the loss is minus its mean. With
    ``objective=f`` the trainer maximises ``f(model, batch)`` instead (then ``trainable``
    needs no ``log_prob``).

    The first nine arguments keep the original pygen positions; the rest are
    keyword-only. See the module documentation for the metrics and the order of events,
    and :class:`~pygen.train.state.TrainerState` for what a callback sees.

    Args:
        trainable: an ``nn.Module`` with ``log_prob(x)``.
        dataset: a map-style dataset of tuples; in-memory tensor datasets are batched by
            indexing (see :mod:`pygen.train.batching`).
        batch_size: examples per batch (per process under ``torchrun``).
        max_epoch: the number of epochs.
        batch_end_callback: legacy callable ``f(trainer)`` run after every update.
        epoch_end_callback: legacy callable ``f(trainer)`` run after every epoch.
        use_scheduler: multiply the learning rate by :func:`rm_scheduler`.
        dummy_run: run one batch per epoch (a smoke test of the whole program).
        model_path: where to write ``trainable.state_dict()`` after every epoch and at a
            stop (atomically; rank 0 only).
        reverse_inputs: used by :class:`LayerTrainer` only.
        objective: a :class:`~pygen.train.objective.Objective` or a callable
            ``(model, batch) -> per-example tensor`` (or ``(tensor, {name: tensor})``) to
            maximise instead of the log-likelihood.
        callbacks: :class:`~pygen.train.callback.Callback` objects, called in order.
        optimizer: an optimizer over the trainable's parameters, or a factory
            ``params -> optimizer``; default Adam with learning rate 1e-3. One built with
            ``maximize=True`` is refused (the trainer already maximises).
        scheduler: a learning-rate scheduler, or a factory ``optimizer -> scheduler``.
            ``ReduceLROnPlateau`` is stepped with minus the validation (else training)
            objective.
        scheduler_interval: step the scheduler once per ``"epoch"`` or once per
            optimizer ``"step"``.
        grad_clip_norm: clip the global gradient norm to this value.
        amp: mixed precision on CUDA: ``"bf16"`` (or True) or ``"fp16"`` (with a
            gradient scaler). Ignored with a warning on other devices.
        compile: run the objective through :func:`torch.compile`.
        validation_dataset: evaluated with the objective (``val_*`` metrics).
        validation_objective: evaluate ``validation_dataset`` with this objective instead
            of ``objective`` (e.g. a tighter bound such as IWAE-k for a model trained on
            the ELBO); its value and metrics are logged under their own names with the
            ``val_`` prefix. ``ReduceLROnPlateau`` is then stepped with its value.
        validate_every_n_steps: also validate every this many optimizer steps.
        validate_every_epoch: validate at every epoch end.
        seed: seeds torch, ``random`` and numpy at the start of a fresh run and the
            shuffles; None draws the shuffle seed from torch's generator.
        progress: show a progress display on stderr (rank 0 only).
        checkpoint_path: write a resumable checkpoint here at every epoch end, at a
            stop and on a signal; :meth:`train` resumes from it when the file exists.
        checkpoint_every_n_steps: also checkpoint every this many optimizer steps.
        checkpoint_every_seconds: also checkpoint when this many seconds have passed
            since the last one (checked after each step; rank 0's clock).
        max_steps: stop after this many optimizer steps (or ``max_epoch``, whichever
            comes first).
        time_limit: stop after the step during which this many seconds of this
            :meth:`train` call have passed (checkpointed).
        accumulate_grad_batches: average the gradients of this many batches per
            optimizer step (the update of one batch that many times larger).
        ema_decay: keep an exponential moving average of the parameters with this
            decay (``trainer.ema``); validation uses it; it is checkpointed, and a resume
            with another decay is refused.
        log_every_n_steps: read the batch metrics from the device every this many steps
            (and whenever a callback reads ``batch_metrics`` or ``history``).
        skip_nonfinite: skip updates whose mean objective is NaN/inf (on every rank
            together) instead of raising
            :class:`~pygen.train.errors.NonFiniteLogProbError`.
        check_finite: check each batch's mean objective before the optimizer step (the
            only number read from the device every step; on CUDA that read waits for the
            step's kernels). False: no check and no per-step device-to-host read
            (non-finite values then show only in the metrics).
        shuffle: reshuffle the data every epoch (as the original did).
        drop_last: drop the last incomplete batch (as the original did).
        num_workers: DataLoader workers for datasets that are not in-memory tensors.
            They leave SIGINT, SIGTERM and SIGUSR1 to the trainer, so a scheduler's
            signal to the whole process group still ends in a checkpoint.
        persistent_workers: keep those workers alive from one epoch to the next
            (needs ``num_workers > 0``).

    Raises:
        TypeError: for arguments of the wrong kind (trainable not an ``nn.Module`` or
            without ``log_prob``, items not tuples, callbacks not ``Callback`` objects).
        ValueError: for bad values (empty dataset, ``batch_size`` larger than the data
            with ``drop_last``, non-positive sizes, missing folders, both
            ``use_scheduler`` and ``scheduler``, an optimizer with ``maximize=True``).

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


class LayerTrainer(_Trainer):
    """Fits a layer (input -> distribution) by maximising ``trainable(x).log_prob(y)``.

    Each dataset item is a tuple ``(x, y, ...)``: the layer maps ``x`` to a distribution
    that models ``y`` (``reverse_inputs=True`` models ``x`` given ``y``). The output's
    ``log_prob(y)`` must return one value per example (shape ``[batch]``). Accuracy is
    reported for categorical outputs; see the module documentation for the metrics and
    the order of events.

    Args:
        trainable: an ``nn.Module`` whose output has ``log_prob``.
        dataset: a map-style dataset of tuples ``(x, y, ...)``.
        batch_size: examples per batch (per process under ``torchrun``).
        max_epoch: the number of epochs.
        batch_end_callback: legacy callable ``f(trainer)`` run after every update.
        epoch_end_callback: legacy callable ``f(trainer)`` run after every epoch.
        use_scheduler: multiply the learning rate by :func:`rm_scheduler`.
        dummy_run: run one batch per epoch.
        reverse_inputs: model the first element given the second.
        model_path: where to write ``trainable.state_dict()`` after every epoch.
        **options: the keyword-only options of :class:`DistributionTrainer`
            (``objective``, ``callbacks``, ``optimizer``, ``scheduler``, ...).

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

    def _default_objective(self, reverse_inputs: bool) -> Objective:
        return LayerLogProbObjective(reverse_inputs)

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
        reverse_inputs: bool = False,
        model_path: PathOption = None,
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
