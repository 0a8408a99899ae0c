"""Track a training run in MLflow: metrics, parameters, image grids and the final checkpoint.

Needs the ``mlflow`` extra (``pip install 'pygen-callbacks[mlflow]'``); it is imported
only when an :class:`MLflowLogger` is built, so the rest of pygen.callbacks works without it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from pygen.callbacks._common import (
    check_name,
    is_main_process,
    numeric_metrics,
    trainer_attribute,
    unwrap_model,
)
from pygen.train.callback import Callback
from pygen.train.state import TrainerState

__all__ = ["MLflowLogger"]

# The docstring examples log a real run: the test sessions without the extra skip them.
__doctest_requires__ = ("mlflow",)

_OWNER = "MLflowLogger"
# The optimizer settings logged as parameters (read from its first parameter group).
_OPTIMIZER_SETTINGS = ("lr", "betas", "eps", "weight_decay", "momentum", "nesterov", "amsgrad")
_RESUMED_TAG = "pygen.resumed"


def _import_mlflow() -> Any:
    """The ``mlflow`` module, or an ImportError that names the extra to install."""
    try:
        import mlflow
        import mlflow.entities
        import mlflow.tracking
    except ImportError as error:
        raise ImportError(
            f"{_OWNER} needs the mlflow package, an optional extra of pygen-callbacks: "
            f"pip install 'pygen-callbacks[mlflow]' (or pip install mlflow); "
            f"importing it failed with: {error}"
        ) from error
    return mlflow


def _check_mapping(argument: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{_OWNER}: {argument} must be a mapping of names to values or None; "
            f"got {type(value).__name__}"
        )
    bad = [key for key in value if not isinstance(key, str) or not key]
    if bad:
        raise TypeError(f"{_OWNER}: {argument} keys must be non-empty strings; got {bad!r}")
    return {key: str(item) for key, item in value.items()}


def _size(dataset: Any) -> int | None:
    try:
        return len(dataset)
    except TypeError:
        return None


def trainer_params(trainer: Any) -> dict[str, str]:
    """The trainer's options as MLflow parameters (strings), read from its attributes.

    Attributes a trainer-like object lacks are left out. The learning rate is the
    optimizer's initial one (``initial_lr`` once a scheduler has stepped), so a resumed
    run reports the same value.
    """
    params: dict[str, Any] = {"trainer": type(trainer).__name__}
    model = getattr(trainer, "trainable", None)
    if model is not None:
        model = unwrap_model(model)
        params["model"] = type(model).__name__
        if isinstance(model, torch.nn.Module):
            params["num_parameters"] = sum(p.numel() for p in model.parameters())
    objective = getattr(trainer, "objective", None)
    if objective is not None:
        params["objective"] = getattr(objective, "name", type(objective).__name__)
    for name in (
        "batch_size",
        "max_epoch",
        "max_steps",
        "accumulate_grad_batches",
        "grad_clip_norm",
        "seed",
        "shuffle",
        "drop_last",
        "reverse_inputs",
        "scheduler_interval",
        "world_size",
    ):
        if hasattr(trainer, name):
            params[name] = getattr(trainer, name)
    for name, attribute in (("dataset_size", "dataset"), ("validation_size", "validation_dataset")):
        dataset = getattr(trainer, attribute, None)
        if dataset is not None and (size := _size(dataset)) is not None:
            params[name] = size
    optimizer = getattr(trainer, "optimizer", None)
    if isinstance(optimizer, torch.optim.Optimizer):
        params["optimizer"] = type(optimizer).__name__
        group = optimizer.param_groups[0]
        for setting in _OPTIMIZER_SETTINGS:
            if setting in group:
                params[setting] = (
                    group.get("initial_lr", group["lr"]) if setting == "lr" else (group[setting])
                )
    if hasattr(trainer, "scheduler"):
        scheduler = trainer.scheduler
        params["scheduler"] = None if scheduler is None else type(scheduler).__name__
    ema = getattr(trainer, "ema", None)
    if hasattr(trainer, "ema"):
        params["ema_decay"] = None if ema is None else getattr(ema, "decay", None)
    return {key: str(value) for key, value in params.items()}


class MLflowLogger(Callback):
    """Logs a pygen training run to MLflow, and resumes that run with the trainer.

    In ``on_train_start`` it creates a run in the experiment ``experiment_name`` (created
    if missing) of the tracking store ``tracking_uri``: a local SQLite file
    (``"sqlite:///mlflow.db"``) needs no server, and a server's ``http://...`` address
    works the same. It logs:

    - **parameters**: the trainer's options (trainer and model class, objective,
      ``batch_size``, ``max_epoch``, optimizer and its ``lr``, scheduler, seed, dataset
      sizes, ...) and ``params``;
    - **metrics**: every numeric entry of ``trainer.metrics`` at the end of each epoch,
      under the trainer's own names (``log_prob``, ``bits_per_dim``, ``val_log_prob``,
      ``elbo``, ``lr``, ... as in ``trainer.history.epochs``; with ``prefix`` before
      them) at step ``trainer.epoch``, the step TensorBoard's callbacks use; with
      ``log_batch_metrics=True`` also ``trainer.batch_metrics`` as
      ``f"{batch_prefix}{name}"`` at step ``trainer.batch_num``;
    - **the final checkpoint**, in ``on_train_end``: the trainable's ``state_dict`` as
      the artifact ``checkpoints/model.pt`` (loadable with
      ``torch.load(weights_only=True)``) and the trainer's own checkpoint file
      (``checkpoint_path``) beside it, when it has one;
    - **image grids**: it is also a writer with ``add_scalar`` and ``add_image``, so any
      pygen-callbacks image or scalar callback given the logger instead of a
      TensorBoard ``SummaryWriter`` logs into the run: ``TBImagesCallback(logger,
      "samples")`` logs its sample grid each epoch as the MLflow image ``samples`` at
      step ``trainer.epoch``, ``TBDatasetObjectiveCallback(logger, data, objective)``
      its figures as metrics.

    The run's id is the logger's :meth:`state_dict`, so the trainer's checkpoint keeps
    it: a run resumed from that checkpoint (the same code run again, with this logger in
    ``callbacks=[...]``) continues the same MLflow run, its metrics going on at the
    steps where they stopped, instead of starting a second run. Parameters the resumed
    trainer sets differently (a larger ``max_epoch``) are recorded as tags
    ``pygen.resumed.<name>`` (MLflow parameters cannot change), and the run is marked
    ``FINISHED`` when training ends. Only the main process logs.

    Args:
        tracking_uri: the MLflow tracking store, e.g. ``"sqlite:///mlflow.db"``; None:
            MLflow's own default (the ``MLFLOW_TRACKING_URI`` environment variable, ...).
        experiment_name: the experiment the run belongs to.
        run_name: the new run's name (None: MLflow picks one).
        params: more parameters to log beside the trainer's options (values as strings).
        tags: tags of the new run.
        artifact_location: where a newly created experiment stores its artifacts
            (None: MLflow's default, ``./mlruns`` for a SQLite store).
        prefix: prepended to each epoch metric's name.
        log_batch_metrics: also log the per-batch metrics.
        batch_prefix: prepended to each batch metric's name.
        log_checkpoint: log the final model weights and trainer checkpoint as artifacts.

    Raises:
        ImportError: if mlflow is not installed (install ``pygen-callbacks[mlflow]``).
        TypeError: for an argument of the wrong type.
        ValueError: for an empty ``experiment_name``, equal prefixes while batch metrics
            are logged; in ``on_train_start``, if the run a checkpoint names is not in
            the tracking store.

    Example:
        >>> import tempfile, pathlib, torch
        >>> from torch.utils.data import TensorDataset
        >>> from pygen.train import DistributionTrainer
        >>> class Gaussian(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.loc = torch.nn.Parameter(torch.zeros(()))
        ...
        ...     def log_prob(self, x):
        ...         return torch.distributions.Normal(self.loc, 1.0).log_prob(x)
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> logger = MLflowLogger(
        ...     f"sqlite:///{folder / 'mlflow.db'}",
        ...     "gaussian",
        ...     artifact_location=str(folder / "artifacts"),
        ... )
        >>> data = TensorDataset(torch.randn(64) + 3.0)
        >>> DistributionTrainer(Gaussian(), data, 16, 3, callbacks=[logger], progress=False).train()
        >>> run = logger.client.get_run(logger.run_id)
        >>> run.info.status, run.data.params["max_epoch"]
        ('FINISHED', '3')
        >>> [m.step for m in logger.client.get_metric_history(logger.run_id, "log_prob")]
        [0, 1, 2]
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment_name: str = "pygen",
        *,
        run_name: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        artifact_location: str | None = None,
        prefix: str = "",
        log_batch_metrics: bool = False,
        batch_prefix: str = "batch/",
        log_checkpoint: bool = True,
    ) -> None:
        for name, value in (
            ("tracking_uri", tracking_uri),
            ("run_name", run_name),
            ("artifact_location", artifact_location),
        ):
            if value is not None and not isinstance(value, str):
                raise TypeError(
                    f"{_OWNER}: {name} must be a str or None; got {type(value).__name__}"
                )
        self.experiment_name = check_name(_OWNER, "experiment_name", experiment_name)
        for name, value in (("prefix", prefix), ("batch_prefix", batch_prefix)):
            if not isinstance(value, str):
                raise TypeError(f"{_OWNER}: {name} must be a str; got {type(value).__name__}")
        for name, value in (
            ("log_batch_metrics", log_batch_metrics),
            ("log_checkpoint", log_checkpoint),
        ):
            if not isinstance(value, bool):
                raise TypeError(f"{_OWNER}: {name} must be a bool; got {type(value).__name__}")
        if log_batch_metrics and prefix == batch_prefix:
            raise ValueError(
                f"{_OWNER}: prefix and batch_prefix must differ so epoch and batch metrics "
                f"get different names; got both {prefix!r}"
            )
        self.params = _check_mapping("params", params)
        self.tags = _check_mapping("tags", tags)
        self._mlflow = _import_mlflow()
        self.tracking_uri = tracking_uri
        self.run_name = run_name
        self.artifact_location = artifact_location
        self.prefix = prefix
        self.log_batch_metrics = log_batch_metrics
        self.batch_prefix = batch_prefix
        self.log_checkpoint = log_checkpoint
        self.run_id: str | None = None
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The ``mlflow.tracking.MlflowClient`` of ``tracking_uri`` (to read the run back)."""
        if self._client is None:
            self._client = self._mlflow.tracking.MlflowClient(tracking_uri=self.tracking_uri)
        return self._client

    # -- resumable state ----------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """``{"run_id": ...}``: the MLflow run a resume continues (None before the start)."""
        return {"run_id": self.run_id}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take the run id of a checkpoint, to continue that run in ``on_train_start``.

        Args:
            state: a dict from :meth:`state_dict`.

        Raises:
            TypeError: if ``state`` is not a dict or its ``run_id`` not a str or None.
        """
        super().load_state_dict(state)
        run_id = state.get("run_id")
        if run_id is not None and not isinstance(run_id, str):
            raise TypeError(
                f"{_OWNER}.load_state_dict: run_id must be a str or None; "
                f"got {type(run_id).__name__}"
            )
        self.run_id = run_id

    # -- the run ------------------------------------------------------------------------

    def _experiment_id(self) -> str:
        experiment = self.client.get_experiment_by_name(self.experiment_name)
        if experiment is not None:
            return str(experiment.experiment_id)
        return str(
            self.client.create_experiment(
                self.experiment_name, artifact_location=self.artifact_location
            )
        )

    def _resume(self, trainer: TrainerState) -> None:
        run_id = self.run_id
        assert run_id is not None
        try:
            run = self.client.get_run(run_id)
        except self._mlflow.exceptions.MlflowException as error:
            raise ValueError(
                f"{_OWNER}: the trainer's checkpoint continues MLflow run {run_id!r}, which "
                f"the tracking store {self.client.tracking_uri!r} does not hold; pass the "
                "tracking_uri the run was logged to (or start without the checkpoint)"
            ) from error
        self.client.update_run(run_id, status="RUNNING")
        logged = run.data.params
        params = {**trainer_params(trainer), **self.params}
        new = {key: value for key, value in params.items() if key not in logged}
        changed = {
            f"{_RESUMED_TAG}.{key}": value
            for key, value in params.items()
            if key in logged and logged[key] != value
        }
        self._log(params=new, tags=changed)

    def _start(self, trainer: TrainerState) -> None:
        tags = dict(self.tags)
        run = self.client.create_run(self._experiment_id(), run_name=self.run_name, tags=tags)
        self.run_id = str(run.info.run_id)
        self._log(params={**trainer_params(trainer), **self.params})

    def _active_run(self, what: str) -> str:
        if self.run_id is None:
            raise RuntimeError(
                f"{_OWNER}: {what} needs a run, which starts in on_train_start; pass the "
                "logger in the trainer's callbacks=[...] (before training starts)"
            )
        return self.run_id

    def _log(
        self,
        *,
        metrics: Mapping[str, float] | None = None,
        step: int = 0,
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        entities = self._mlflow.entities
        now = int(time.time() * 1000)
        self.client.log_batch(
            self._active_run("logging"),
            metrics=[entities.Metric(k, v, now, step) for k, v in (metrics or {}).items()],
            params=[entities.Param(k, v) for k, v in (params or {}).items()],
            tags=[entities.RunTag(k, v) for k, v in (tags or {}).items()],
        )

    # -- the hooks ------------------------------------------------------------------------

    def on_train_start(self, trainer: TrainerState) -> None:
        """Continue the checkpoint's run, or create one and log the trainer's options."""
        if not is_main_process(trainer):
            return
        if self.run_id is None:
            self._start(trainer)
        else:
            self._resume(trainer)

    def on_batch_end(self, trainer: TrainerState) -> None:
        """Log ``trainer.batch_metrics`` at ``trainer.batch_num`` (if enabled)."""
        if not self.log_batch_metrics or not is_main_process(trainer):
            return
        metrics = numeric_metrics(trainer_attribute(_OWNER, trainer, "batch_metrics"))
        step = int(trainer_attribute(_OWNER, trainer, "batch_num"))
        self._log(metrics={f"{self.batch_prefix}{k}": v for k, v in metrics.items()}, step=step)

    def on_epoch_end(self, trainer: TrainerState) -> None:
        """Log the epoch metrics."""
        self(trainer)

    def __call__(self, trainer: TrainerState) -> None:
        """Log every numeric entry of ``trainer.metrics`` at step ``trainer.epoch``.

        Args:
            trainer: the pygen.train trainer (or any object with its attributes).
        """
        if not is_main_process(trainer):
            return
        metrics = numeric_metrics(trainer_attribute(_OWNER, trainer, "metrics"))
        step = int(trainer_attribute(_OWNER, trainer, "epoch"))
        self._log(metrics={f"{self.prefix}{k}": v for k, v in metrics.items()}, step=step)

    def on_train_end(self, trainer: TrainerState) -> None:
        """Log the final checkpoint as artifacts and mark the run finished."""
        if not is_main_process(trainer):
            return
        run_id = self._active_run("on_train_end")
        if self.log_checkpoint:
            model = unwrap_model(trainer_attribute(_OWNER, trainer, "trainable"))
            with tempfile.TemporaryDirectory() as folder:
                weights = Path(folder) / "model.pt"
                torch.save(model.state_dict(), weights)
                self.client.log_artifact(run_id, str(weights), "checkpoints")
            checkpoint = getattr(trainer, "checkpoint_path", None)
            if checkpoint is not None and Path(checkpoint).is_file():
                self.client.log_artifact(run_id, str(checkpoint), "checkpoints")
        self.client.set_terminated(run_id, "FINISHED")

    # -- the writer interface of the TensorBoard callbacks ----------------------------------

    def add_scalar(self, tag: str, scalar_value: float, global_step: int) -> None:
        """Log one metric, as ``SummaryWriter.add_scalar`` would (for the TB callbacks).

        Args:
            tag: the metric's name.
            scalar_value: its value.
            global_step: its step.
        """
        self._log(metrics={tag: float(scalar_value)}, step=int(global_step))

    def add_image(self, tag: str, img_tensor: torch.Tensor, global_step: int) -> None:
        """Log a ``[C, H, W]`` image in ``[0, 1]`` as the MLflow image ``tag`` at a step.

        This is the call every pygen-callbacks image callback makes on its writer, so
        ``TBImagesCallback(logger, "samples")`` (or any other image callback) puts its
        grids into the run, beside the metrics, with MLflow's step slider.

        Args:
            tag: the image's name.
            img_tensor: a float tensor ``[C, H, W]`` with ``C`` in ``{1, 3}``.
            global_step: its step (the epoch for the image callbacks).

        Raises:
            TypeError: if ``img_tensor`` is not a tensor.
            ValueError: if it is not ``[C, H, W]`` with 1 or 3 channels.
        """
        if not isinstance(img_tensor, torch.Tensor):
            raise TypeError(
                f"{_OWNER}.add_image: img_tensor must be a torch.Tensor; "
                f"got {type(img_tensor).__name__}"
            )
        if img_tensor.dim() != 3 or img_tensor.shape[0] not in (1, 3):
            raise ValueError(
                f"{_OWNER}.add_image: img_tensor must have shape [C, H, W] with C in {{1, 3}}; "
                f"got shape {list(img_tensor.shape)}"
            )
        run_id = self._active_run("add_image")
        pixels = img_tensor.detach().float().cpu().clamp(0.0, 1.0).mul(255).round()
        array = pixels.to(torch.uint8).permute(1, 2, 0).numpy()
        if array.shape[2] == 1:
            array = array[:, :, 0]  # MLflow reads an [H, W] array as a grey image
        self.client.log_image(run_id, array, key=tag, step=int(global_step))

    def flush(self) -> None:
        """Nothing to flush: every call above has reached the store when it returns."""
