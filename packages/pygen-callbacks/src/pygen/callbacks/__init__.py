"""pygen.callbacks: watch pygen training in TensorBoard and on disk.

Every callback works both ways the trainer accepts callbacks: as a plain callable
``cb(trainer)`` passed as ``epoch_end_callback=`` / ``batch_end_callback=`` (the original
pygen API), and as a :class:`pygen.train.Callback` in ``callbacks=[...]``, where it runs in
its natural hook (``on_batch_end`` for batch-level logging, ``on_epoch_end`` otherwise) and
checks the model in ``on_train_start``. Callbacks that write (TensorBoard, MLflow, PNG,
CSV, checkpoints) do so only on the main process (``trainer.is_main_process``).
:class:`MLflowLogger` needs the ``mlflow`` extra (``pip install 'pygen-callbacks[mlflow]'``),
imported only when one is built.

The trainer computes the epoch's metrics, validation included (``val_log_prob``,
``val_bits_per_dim``, ``val_accuracy`` when given ``validation_dataset=``), before any
``on_epoch_end``; put :class:`ModelCheckpoint` last in ``callbacks=[...]``.
"""

from pygen.callbacks.callback_compose import ComposedCallback, callback_compose
from pygen.callbacks.csv_logger import CSVLogger
from pygen.callbacks.early_stopping import EarlyStopping
from pygen.callbacks.image_folder_writer import ImageFolderWriter
from pygen.callbacks.labelled_images_grid import make_labelled_images_grid
from pygen.callbacks.learning_rate_monitor import LearningRateMonitor
from pygen.callbacks.mlflow_logger import MLflowLogger
from pygen.callbacks.model_checkpoint import ModelCheckpoint
from pygen.callbacks.tb_accuracy import TBAccuracyCallback
from pygen.callbacks.tb_batch_log_prob import TBBatchLogProbCallback
from pygen.callbacks.tb_classify_images import TBClassifyImagesCallback
from pygen.callbacks.tb_completions import TBCompletionsCallback
from pygen.callbacks.tb_conditional_images import TBConditionalImagesCallback
from pygen.callbacks.tb_dataset_log_prob import (
    TBDatasetLogProbDistributionCallback,
    TBDatasetLogProbLayerCallback,
)
from pygen.callbacks.tb_dataset_objective import TBDatasetObjectiveCallback
from pygen.callbacks.tb_histograms import TBHistogramsCallback
from pygen.callbacks.tb_images import TBImagesCallback
from pygen.callbacks.tb_metrics import TBMetricsCallback
from pygen.callbacks.tb_reconstructions import TBReconstructionsCallback
from pygen.callbacks.tb_total_log_prob import TBTotalLogProbCallback

__all__ = [
    "CSVLogger",
    "ComposedCallback",
    "EarlyStopping",
    "ImageFolderWriter",
    "LearningRateMonitor",
    "MLflowLogger",
    "ModelCheckpoint",
    "TBAccuracyCallback",
    "TBBatchLogProbCallback",
    "TBClassifyImagesCallback",
    "TBCompletionsCallback",
    "TBConditionalImagesCallback",
    "TBDatasetLogProbDistributionCallback",
    "TBDatasetLogProbLayerCallback",
    "TBDatasetObjectiveCallback",
    "TBHistogramsCallback",
    "TBImagesCallback",
    "TBMetricsCallback",
    "TBReconstructionsCallback",
    "TBTotalLogProbCallback",
    "callback_compose",
    "make_labelled_images_grid",
]
