"""Tests for pygen.train.metric_names: what kind of number a metric name promises."""

from __future__ import annotations

import pytest

from pygen.train.metric_names import bits_per_dim_name, metric_kind


@pytest.mark.parametrize(
    ("name", "kind", "bits"),
    [
        ("log_prob", "likelihood", "bits_per_dim"),
        ("val_log_prob", "likelihood", "val_bits_per_dim"),
        ("elbo", "bound", "elbo_bits_per_dim"),
        ("val_elbo", "bound", "val_elbo_bits_per_dim"),
        ("iwae", "bound", "iwae_bits_per_dim"),
        ("iwae_k", "bound", "iwae_k_bits_per_dim"),
        ("iwae_64", "bound", "iwae_64_bits_per_dim"),
        ("kl", "other", None),
        ("objective", "other", None),
        ("accuracy", "other", None),
        ("log_prob_ish", "other", None),
        ("elbo_beta", "other", None),
        ("iwae_x", "other", None),
    ],
)
def test_train_metric_kind_and_bits_name(name, kind, bits):
    assert metric_kind(name) == kind
    assert bits_per_dim_name(name) == bits


def test_train_metric_kind_rejects_non_string():
    with pytest.raises(TypeError, match="name must be a str, got int"):
        metric_kind(3)
