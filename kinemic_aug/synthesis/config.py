"""What synthesis does for one class (:class:`SynthesisConfig`): sampler, guidance, filter thresholds, draw bound."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Dict, Optional, Tuple


#: ``shot_strength`` of the reconstruction pass: the nearest step of any respaced chain is its first
RECONSTRUCTION_STRENGTH = 1e-6


@dataclass(frozen=True)
class SynthesisConfig:
    """How synthetic samples are drawn.

    Attributes:
        steps, sampler, eta, guidance: reverse diffusion (DDIM with 20 steps and guidance 2.5 by default).
        batch_size: sequences per forward pass.
        compose_with: unrelated captions for dual conditioning; ``compose_fraction`` of the samples
            use one of them (with the class's action id) instead of the class caption.
        static_ratio, explode_ratio, bone_cv_max: the degenerate-sample filter.
        oversample: draw this factor more than asked, so the filter can drop some and still meet the count.
        draw_limit: draw at most this many samples per sample asked (``draw_limit × n`` per class) before
            giving up on the count; the class's report then records the shortfall and the filter's reasons.
        shot_strength: ``1.0`` samples from pure noise (the paper's synthesis). Below 1, each sample
            starts from one of the class's real shots noised ``shot_strength`` of the way up the chain
            (partial diffusion): the adapted generator then re-draws the shot's detail, amplitude and
            style while its timing stays, which keeps samples moving like the class even when the
            generator alone produces muted motion. Shots are used in turn (each gets an equal share of
            the samples drawn; the filter may then drop more of one shot's than of another's).
        rechain_bones: rebuild each kept sample with the bone lengths of a real shot of the class
            (see the module docstring); the filter judges the raw sample first.
        travel_cap: ``None`` (default) leaves the root path as drawn. A number ``c`` scales each sample's
            ground-plane root path down so it travels at most ``c`` times the farthest any of the class's
            shots travels (:func:`~kinemic_aug.synthesis.filter.cap_travel`), for targets performed on the
            spot; the pose and vertical motion are kept. It is applied before the degenerate-sample filter, so
            a sample that only wandered is pulled back instead of dropped as exploding. Off, it is left out of
            the cache key, so keys made before it existed still match.
        root_from_shot: ``False`` (default) keeps the root path the generator drew. ``True`` moves each
            sample along the root path of the shot it was anchored on, or whose bones it gets (ground plane
            and height, resampled to its length, turned to its heading; :mod:`~kinemic_aug.synthesis.root_path`):
            the generator's pose is kept and its drift, where its error in metres concentrates, is dropped.
            Applied after ``residual``, before ``travel_cap`` and the filter. Off, it is left out of the cache key.
        residual: ``False`` (default) keeps each sample as decoded. ``True`` (anchored sampling only,
            ``shot_strength < 1``) keeps only what the chain *changed*: the sample becomes its shot plus
            (sample - the generator's reconstruction of that shot), the reconstruction being one denoising
            step from the clean shot. Why: the generator reproduces a clean target shot with a bias of its own
            (the shipped Bandai generalist moves an MSR Action3D shot's hands by 3-8 cm at zero noise, toward
            the corpus's poses), and that bias, the same in every sample of a shot, is not variation the class
            has. Applied before ``root_from_shot``. Off, it is left out of the cache key.
        residual_in_target: with ``residual``, also take the change back to the dataset's own joints: the
            sample becomes the real shot as recorded plus (the sample - the shot), both brought back through
            the same bridge, so the joints the generator's skeleton does not have (MSR Action3D's hands, the
            Kinect's noise) stay the real ones. Off, it is left out of the cache key.
    """

    steps: int = 20
    sampler: str = "ddim"
    eta: float = 0.0
    guidance: float = 2.5
    batch_size: int = 64
    compose_with: Tuple[str, ...] = ()
    compose_fraction: float = 0.0
    static_ratio: float = 0.15
    explode_ratio: float = 2.5
    bone_cv_max: float = 0.6
    oversample: float = 1.25
    draw_limit: float = 8.0
    shot_strength: float = 1.0
    rechain_bones: bool = True
    travel_cap: Optional[float] = None
    root_from_shot: bool = False
    residual: bool = False
    residual_in_target: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.shot_strength <= 1.0:
            raise ValueError(f"shot_strength must be in (0, 1], got {self.shot_strength}")
        if not self.oversample >= 1.0:
            raise ValueError(f"oversample must be >= 1, got {self.oversample}")
        if not self.draw_limit >= self.oversample:
            raise ValueError(f"draw_limit ({self.draw_limit}) must be >= oversample ({self.oversample})")
        if self.residual and self.shot_strength >= 1.0:
            raise ValueError("residual=True needs anchored sampling (shot_strength < 1): a sample from pure noise "
                             "has no shot to keep")
        if self.residual_in_target and not self.residual:
            raise ValueError("residual_in_target=True needs residual=True")
        if self.travel_cap is not None and not self.travel_cap > 0.0:
            raise ValueError(f"travel_cap must be None or > 0, got {self.travel_cap}")

    def reconstruction(self) -> "SynthesisConfig":
        """The pass that reconstructs the clean shots (``residual``): one deterministic step from the shot."""
        return replace(self, shot_strength=RECONSTRUCTION_STRENGTH, sampler="ddim", eta=0.0, residual=False, residual_in_target=False)

    @classmethod
    def paper(cls, **overrides: Any) -> "SynthesisConfig":
        """Synthesis as the reference runs it: the full ancestral (DDPM) chain from pure noise, guidance
        2.5, no degenerate-sample filter, no shot anchoring, no bone re-chaining. ``steps`` is capped at
        the checkpoint's own number of diffusion steps, so 1000 means "all of them". ``overrides`` replace
        fields."""
        base = dict(steps=1000, sampler="ddpm", eta=0.0, guidance=2.5, static_ratio=0.0, explode_ratio=float("inf"),
                    bone_cv_max=float("inf"), oversample=1.0, draw_limit=1.0, shot_strength=1.0, rechain_bones=False)
        base.update(overrides)
        if "compose_with" in base:
            base["compose_with"] = tuple(base["compose_with"])
        return cls(**base)

    def to_dict(self) -> Dict:
        d = asdict(self)
        d["compose_with"] = list(self.compose_with)
        if d["travel_cap"] is None:  # off: the key of every set made before the option existed
            del d["travel_cap"]
        for flag in ("root_from_shot", "residual", "residual_in_target"):  # off: likewise
            if not d[flag]:
                del d[flag]
        return d
