"""Former home of the skeleton renderer; it now lives in :mod:`kinemic_aug.skeleton.render`."""
from .skeleton.render import VIEWS, RenderStyle, render_frames, render_gif, render_strip

__all__ = ["VIEWS", "RenderStyle", "render_frames", "render_gif", "render_strip"]
