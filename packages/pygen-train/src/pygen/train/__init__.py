"""pygen.train: a maximum-likelihood training loop for PyTorch.

``DistributionTrainer`` maximises ``model.log_prob(x)``; ``LayerTrainer`` maximises
``model(x).log_prob(y)``. Both resume exactly from crash-safe checkpoints, refuse
checkpoints that would run code, batch in-memory tensors by indexing, and run
data-parallel under ``torchrun`` without code changes. Depends on torch only.
"""

from pygen.train.batching import BatchLoader, epoch_seed
from pygen.train.callback import Callback
from pygen.train.checkpoint import UnsafeCheckpointError, atomic_save, safe_load
from pygen.train.distributed import DistributedContext
from pygen.train.errors import NonFiniteLogProbError
from pygen.train.evaluate import evaluate
from pygen.train.history import MetricsHistory
from pygen.train.progress import ProgressBar
from pygen.train.seeding import get_rng_state, seed_everything, set_rng_state
from pygen.train.train import DistributionTrainer, LayerTrainer, rm_scheduler

__all__ = [
    "BatchLoader",
    "Callback",
    "DistributedContext",
    "DistributionTrainer",
    "LayerTrainer",
    "MetricsHistory",
    "NonFiniteLogProbError",
    "ProgressBar",
    "UnsafeCheckpointError",
    "atomic_save",
    "epoch_seed",
    "evaluate",
    "get_rng_state",
    "rm_scheduler",
    "safe_load",
    "seed_everything",
    "set_rng_state",
]
