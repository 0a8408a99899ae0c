"""pygen.layers.classifier_net.ClassifierNet."""

from __future__ import annotations

import pytest
import torch

from pygen.layers import ClassifierNet


def test_arguments_validated() -> None:
    with pytest.raises(TypeError, match="mnist must be a bool"):
        ClassifierNet(mnist=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_classes"):
        ClassifierNet(num_classes=0)


def test_wrong_image_shape_raises_naming_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\[\*batch, 1, 28, 28\].*got \[2, 28, 28, 1\]"):
        ClassifierNet()(torch.rand(2, 28, 28, 1))
    with pytest.raises(ValueError, match=r"\[\*batch, 3, 32, 32\].*got \[2, 1, 28, 28\]"):
        ClassifierNet(mnist=False)(torch.rand(2, 1, 28, 28))


def test_integer_images_raise_type_error() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        ClassifierNet()(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))


@pytest.mark.parametrize(("mnist", "image"), [(True, (1, 28, 28)), (False, (3, 32, 32))])
@pytest.mark.parametrize("batch_shape", [(), (4,), (2, 3)], ids=str)
def test_logit_shapes(mnist: bool, image: tuple[int, ...], batch_shape: tuple[int, ...]) -> None:
    net = ClassifierNet(mnist=mnist, num_classes=7).eval()
    images = torch.rand(*batch_shape, *image)
    logits = net(images)
    assert logits.shape == (*batch_shape, 7)
    flat = net(images.reshape(-1, *image))
    torch.testing.assert_close(logits.reshape(-1, 7), flat)
