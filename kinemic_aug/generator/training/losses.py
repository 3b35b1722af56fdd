"""The pretraining losses: x0 error and velocity error on valid frames only."""
from __future__ import annotations



from torch import Tensor


def masked_mse_per_sample(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per-sample MSE over valid frames ``[B]`` (each clip weighs the same whatever its length)."""
    m = mask.to(pred.dtype)[..., None]
    return ((pred - target) ** 2 * m).sum(dim=(1, 2)) / (m.sum(dim=(1, 2)) * pred.shape[-1]).clamp(min=1)


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error over valid frames: per-sample mean over its valid elements, then the batch
    mean (each clip weighs the same whatever its length)."""
    return masked_mse_per_sample(pred, target, mask).mean()


def masked_velocity_mse_per_sample(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per-sample :func:`masked_velocity_mse` ``[B]`` (0 for clips of one frame)."""
    if pred.shape[1] < 2:
        return pred.sum(dim=(1, 2)) * 0.0
    dp = pred[:, 1:] - pred[:, :-1]
    dt = target[:, 1:] - target[:, :-1]
    pair = mask[:, 1:] & mask[:, :-1]
    return masked_mse_per_sample(dp, dt, pair)


def masked_velocity_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error between frame-to-frame differences of ``pred`` and ``target``.

    Why: an x0 loss alone is satisfied by the mean of the plausible motions, which moves less than
    any of them, so samples come out muted. Matching velocities penalises that directly. This is
    the velocity term of MDM's geometric losses (Tevet et al., "Human Motion Diffusion Model",
    ICLR 2023, Sec. 3: L_vel = mean over frames of ||(x_{i+1} - x_i) - (x̂_{i+1} - x̂_i)||²); MDM
    computes it on joint positions, here it runs on the (normalised) representation features,
    which for the ``xyz`` representation are root-relative positions. A difference counts only when
    both of its frames are valid, so padding never leaks in; per-sample mean, then batch mean,
    like :func:`masked_mse`. Clips of one frame contribute 0.
    """
    if pred.shape[1] < 2:
        return pred.sum() * 0.0
    return masked_velocity_mse_per_sample(pred, target, mask).mean()
