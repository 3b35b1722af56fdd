"""Seeded blocks restore the caller's random state (CPU here, every CUDA device on a GPU); one device resolver."""
import pytest
import torch

from kinemic_aug.utils.rng import cuda_devices, seeded


def test_a_seeded_block_is_reproducible_and_leaves_the_callers_cpu_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    with seeded(7):
        a = torch.rand(2)
    with seeded(7):
        b = torch.rand(2)
    assert torch.equal(a, b)
    assert torch.equal(torch.rand(3), expected)  # as if the blocks had not run


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_seeded_block_leaves_every_cuda_generator_alone():
    torch.cuda.manual_seed_all(5)
    expected = torch.rand(3, device="cuda")
    torch.cuda.manual_seed_all(5)
    with seeded(7):
        torch.rand(2, device="cuda")
    assert torch.equal(torch.rand(3, device="cuda"), expected)
    assert cuda_devices() == list(range(torch.cuda.device_count()))



def test_auto_device_is_the_gpu_when_there_is_one_and_names_pass_through():
    from kinemic_aug.utils.device import resolve_device

    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu") and resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device("cuda:1") == torch.device("cuda", 1)  # a name is taken as given, not checked here
