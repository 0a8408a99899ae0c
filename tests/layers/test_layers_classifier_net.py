"""pygen.layers.classifier_net.ClassifierNet."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

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


@pytest.mark.parametrize(
    ("input_shape", "error", "match"),
    [
        ((1, 28), TypeError, "three ints"),
        ("1x8x8", TypeError, "three ints"),
        ((1, 8.0, 8), TypeError, "three ints"),
        ((1, 5, 8), ValueError, r"H, W >= 6 \(padding=0\), got \[1, 5, 8\]"),
        ((0, 8, 8), ValueError, "C >= 1"),
    ],
)
def test_input_shape_validated(input_shape: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        ClassifierNet(input_shape=input_shape)  # type: ignore[arg-type]


def test_padding_validated_and_small_images_allowed_with_it() -> None:
    with pytest.raises(ValueError, match="padding must be 0 or 1, got 2"):
        ClassifierNet(padding=2)
    with pytest.raises(ValueError, match=r"H, W >= 2 \(padding=1\), got \[1, 1, 8\]"):
        ClassifierNet(input_shape=(1, 1, 8), padding=1)
    net = ClassifierNet(input_shape=(1, 8, 8), padding=1)
    assert net.fc1.in_features == 64 * 4 * 4  # 8x8 kept by the convolutions, pooled to 4x4
    assert ClassifierNet(input_shape=(1, 8, 8)).fc1.in_features == 64 * 2 * 2


@pytest.mark.parametrize(
    ("input_shape", "padding"), [((1, 8, 8), 0), ((3, 16, 12), 0), ((2, 6, 6), 0), ((1, 2, 3), 1)]
)
def test_any_input_shape(input_shape: tuple[int, int, int], padding: int) -> None:
    net = ClassifierNet(num_classes=4, input_shape=input_shape, padding=padding).eval()
    assert net.input_shape == input_shape
    assert net(torch.rand(3, *input_shape)).shape == (3, 4)
    with pytest.raises(ValueError, match=r"input_shape=\[.*got \[3, 1, 28, 28\]"):
        net(torch.rand(3, 1, 28, 28))


def _original_forward(state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The original pygen's ClassifierNet forward, written out from its parameters."""
    x = F.relu(F.conv2d(x, state["conv1.weight"], state["conv1.bias"]))
    x = F.relu(F.conv2d(x, state["conv2.weight"], state["conv2.bias"]))
    x = F.max_pool2d(x, 2).flatten(1)
    x = F.relu(F.linear(x, state["fc1.weight"], state["fc1.bias"]))
    return F.linear(x, state["fc2.weight"], state["fc2.bias"])


@pytest.mark.parametrize(
    ("mnist", "image", "hidden"), [(True, (1, 28, 28), 9216), (False, (3, 32, 32), 12544)]
)
def test_a_checkpoint_of_the_original_loads(
    mnist: bool, image: tuple[int, ...], hidden: int
) -> None:
    # The original's submodules: conv1 (C -> 32), conv2 (32 -> 64), fc1 (hidden -> 128),
    # fc2 (128 -> num_classes); 9216 and 12544 are its own sizes.
    original = {
        "conv1.weight": torch.randn(32, image[0], 3, 3) * 0.1,
        "conv1.bias": torch.randn(32) * 0.1,
        "conv2.weight": torch.randn(64, 32, 3, 3) * 0.05,
        "conv2.bias": torch.randn(64) * 0.1,
        "fc1.weight": torch.randn(128, hidden) * 0.01,
        "fc1.bias": torch.randn(128) * 0.1,
        "fc2.weight": torch.randn(10, 128) * 0.1,
        "fc2.bias": torch.randn(10) * 0.1,
    }
    net = ClassifierNet(mnist=mnist)
    net.load_state_dict(original)  # strict: the same keys and shapes
    net.eval()
    x = torch.rand(2, *image)
    torch.testing.assert_close(net(x), _original_forward(original, x))
