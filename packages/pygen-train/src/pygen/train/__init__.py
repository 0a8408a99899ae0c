"""pygen.train: a maximum-likelihood training loop for PyTorch.

``DistributionTrainer`` maximises ``model.log_prob(x)``; ``LayerTrainer`` maximises
``model(x).log_prob(y)``; either maximises any per-example objective given as
``objective=`` (an ELBO, a regularised likelihood), with its terms logged under their own
names. Both resume exactly from crash-safe checkpoints (at epoch ends, every N steps or T
seconds, and on SIGTERM/SIGUSR1/Ctrl-C), refuse checkpoints that would run code, batch
in-memory tensors by indexing, accumulate gradients, keep EMA weights, and run
data-parallel under ``torchrun`` without code changes. Depends on torch and tqdm.
"""

from pygen.train.batching import BatchLoader, epoch_seed
from pygen.train.callback import Callback
from pygen.train.checkpoint import (
    UnreadableCheckpointError,
    UnsafeCheckpointError,
    atomic_save,
    atomic_write,
    safe_load,
)
from pygen.train.distributed import DistributedContext
from pygen.train.ema import ExponentialMovingAverage
from pygen.train.errors import NonFiniteLogProbError, TrainingPreempted
from pygen.train.evaluate import evaluate
from pygen.train.history import MetricsHistory
from pygen.train.metric_names import MetricKind, bits_per_dim_name, metric_kind
from pygen.train.objective import (
    CallableObjective,
    LayerLogProbObjective,
    LogProbObjective,
    Objective,
    as_objective,
)
from pygen.train.progress import ProgressBar
from pygen.train.seeding import get_rng_state, seed_everything, set_rng_state
from pygen.train.state import StopReason, TrainerState
from pygen.train.train import DistributionTrainer, LayerTrainer, rm_scheduler

__all__ = [
    "BatchLoader",
    "CallableObjective",
    "Callback",
    "DistributedContext",
    "DistributionTrainer",
    "ExponentialMovingAverage",
    "LayerLogProbObjective",
    "LayerTrainer",
    "LogProbObjective",
    "MetricKind",
    "MetricsHistory",
    "NonFiniteLogProbError",
    "Objective",
    "ProgressBar",
    "StopReason",
    "TrainerState",
    "TrainingPreempted",
    "UnreadableCheckpointError",
    "UnsafeCheckpointError",
    "as_objective",
    "atomic_save",
    "atomic_write",
    "bits_per_dim_name",
    "epoch_seed",
    "evaluate",
    "get_rng_state",
    "metric_kind",
    "rm_scheduler",
    "safe_load",
    "seed_everything",
    "set_rng_state",
]
