"""The error raised when the training objective stops being a finite number."""

from __future__ import annotations

__all__ = ["NonFiniteLogProbError"]


class NonFiniteLogProbError(FloatingPointError):
    """The mean log-likelihood of a batch was NaN or infinite.

    The trainer raises it before the optimizer step, so parameters are those of the last
    good batch and the last checkpoint on disk is untouched. The message names the epoch,
    the batch within the epoch and the global batch number. Pass ``skip_nonfinite=True``
    to the trainer to skip such batches instead (they are counted in the
    ``"skipped_batches"`` metric).

    Attributes:
        epoch: 0-based epoch index.
        batch: 1-based batch index within the epoch.
        batch_num: global batch number (counted across epochs).
        value: the offending mean log-likelihood.

    Example:
        >>> from pygen.train.errors import NonFiniteLogProbError
        >>> error = NonFiniteLogProbError(epoch=2, batch=5, batch_num=45, value=float("nan"))
        >>> print(error)
        mean log_prob is nan at epoch 2, batch 5 of the epoch (global batch 45); ...
    """

    def __init__(self, epoch: int, batch: int, batch_num: int, value: float) -> None:
        self.epoch = epoch
        self.batch = batch
        self.batch_num = batch_num
        self.value = value
        super().__init__(
            f"mean log_prob is {value} at epoch {epoch}, batch {batch} of the epoch (global "
            f"batch {batch_num}); the optimizer step was not taken and the last checkpoint "
            "is intact. Lower the learning rate, clip gradients (grad_clip_norm=...), check "
            "the data lie in the distribution's support, or pass skip_nonfinite=True."
        )

    def __reduce__(self) -> tuple[type, tuple[int, int, int, float]]:
        return (type(self), (self.epoch, self.batch, self.batch_num, self.value))
