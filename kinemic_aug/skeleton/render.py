"""Render skeleton motion for people to look at: animated GIF grids and PNG frame strips.

Why not matplotlib 3-D: a 20-clip grid of 60 frames is 1,200 3-D axes draws, about a minute on
this class of machine. Skeletons are a few dozen line segments, so this module projects them
orthographically itself and draws with Pillow (supersampled, then downscaled for smooth lines);
the same grid takes seconds.

Conventions, so that every picture reads the same way:
- data is y-up (every built-in layout); pass ``up_axis=2`` for z-up data such as the output of
  :func:`~kinemic_aug.skeleton.normalize.prenormalize_3d`. The vertical axis is always drawn up.
- ``view`` is relative to the body: each clip is turned about the vertical axis so that, in its
  first valid frame, the person faces the viewer (from the layout's shoulder axis ``xaxis``).
  ``'front'`` looks at the chest, ``'side'`` at the person's right side (facing screen right),
  ``'top'`` from above (front towards the bottom), ``'oblique'`` from 35° to the right and 20°
  above; ``(elev, azim)`` in degrees gives any other camera. ``face_viewer=False`` uses the data's
  own frame instead (azimuth 0 = looking along -z).
- axis limits are fixed per clip over all its frames, with equal scale on both screen axes, so
  movement and size are shown truthfully within a clip.
- left limbs are blue, right limbs red, the midline grey, from :meth:`SkeletonLayout.side`.
- joints that are exactly (0, 0, 0) (PYSKL padding, untracked Kinect joints) are not drawn.
- sequences marked ``synthetic`` carry a red "SYNTHETIC" tag in their title.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..errors import DataError
from ..utils.io import atomic_write_bytes
from .layout import SkeletonLayout, get_layout
from .projection import VIEWS, LayoutLike, View, _Clip, _prepare  # noqa: F401  (VIEWS: public here too)


@dataclass(frozen=True)
class RenderStyle:
    """Colours and sizes (in output pixels)."""

    panel: int = 256
    title_height: int = 34
    supersample: int = 2
    margin: float = 0.08
    bone_width: float = 3.0
    joint_radius: float = 2.6
    background: Tuple[int, int, int] = (255, 255, 255)
    left: Tuple[int, int, int] = (35, 105, 225)
    right: Tuple[int, int, int] = (220, 50, 40)
    center: Tuple[int, int, int] = (80, 80, 80)
    text: Tuple[int, int, int] = (20, 20, 20)
    floor: Tuple[int, int, int] = (200, 200, 200)
    synthetic_tag: Tuple[int, int, int] = (210, 0, 0)


# ------------------------------------------------------------------------------ drawing
def _font(px: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=px)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font, max_px: float) -> str:
    """``text`` shortened with an ellipsis so that it is at most ``max_px`` wide."""
    if draw.textlength(text, font=font) <= max_px:
        return text
    while text and draw.textlength(text + "…", font=font) > max_px:
        text = text[:-1]
    return text + "…" if text else ""


class _Painter:
    """Draws clips into panels of one canvas at ``supersample`` x resolution."""

    def __init__(self, style: RenderStyle):
        self.s = style
        self.k = max(1, int(style.supersample))
        self.title_font = _font(12 * self.k)
        self.small_font = _font(10 * self.k)

    def panel_px(self) -> Tuple[int, int]:
        return self.s.panel * self.k, (self.s.panel + self.s.title_height) * self.k

    def _colour(self, layout: SkeletonLayout, j: int) -> Tuple[int, int, int]:
        side = layout.side(j)
        return self.s.left if side == "left" else self.s.right if side == "right" else self.s.center

    def _transform(self, clip: _Clip, x0: int, y0: int, w: int, h: int):
        umin, umax, vmin, vmax = clip.bounds
        extent = max(umax - umin, vmax - vmin, 1e-6)
        scale = (1.0 - 2.0 * self.s.margin) * min(w, h) / extent
        cu, cv = (umin + umax) / 2.0, (vmin + vmax) / 2.0
        return lambda u, v: (x0 + w / 2.0 + (u - cu) * scale, y0 + h / 2.0 - (v - cv) * scale)

    def title(self, draw: ImageDraw.ImageDraw, clip: _Clip, x0: int, y0: int, width: Optional[int] = None,
              extra: str = "") -> None:
        """Title on the first line (``extra`` after it in grey), SYNTHETIC tag and label on the second;
        texts are shortened to fit ``width`` (default: one panel)."""
        k = self.k
        width = width or self.s.panel * k
        corner = 60 * k  # room for the frame counter drawn by corner()
        title = _fit(draw, clip.title, self.title_font, width - corner - 8 * k)
        draw.text((x0 + 4 * k, y0 + 2 * k), title, fill=self.s.text, font=self.title_font)
        if extra:
            x = x0 + 4 * k + int(draw.textlength(title + "  ", font=self.title_font))
            draw.text((x, y0 + 4 * k), extra, fill=(120, 120, 120), font=self.small_font)
        x = x0 + 4 * k
        if clip.synthetic:
            draw.text((x, y0 + 17 * k), "SYNTHETIC", fill=self.s.synthetic_tag, font=self.title_font)
            x += int(draw.textlength("SYNTHETIC ", font=self.title_font))
        if clip.label:
            label = _fit(draw, clip.label, self.small_font, x0 + width - x - 4 * k)
            draw.text((x, y0 + 18 * k), label, fill=self.s.text, font=self.small_font)

    def corner(self, draw: ImageDraw.ImageDraw, x0: int, y0: int, text: str) -> None:
        """Small grey text in the panel's top-right corner (frame counter)."""
        k = self.k
        draw.text((x0 + self.s.panel * k - int(draw.textlength(text, font=self.small_font)) - 4 * k, y0 + 4 * k),
                  text, fill=(120, 120, 120), font=self.small_font)

    def skeleton(self, draw: ImageDraw.ImageDraw, clip: _Clip, t: int, x0: int, y0: int, w: int, h: int,
                 to_px=None) -> None:
        to_px = to_px or self._transform(clip, x0, y0, w, h)
        k, lay = self.k, clip.layout
        if clip.floor_v is not None:
            _, fy = to_px(0.0, clip.floor_v)
            draw.line([(x0 + 6 * k, fy), (x0 + w - 6 * k, fy)], fill=self.s.floor, width=max(1, k))
        segs = []
        for m in range(clip.uv.shape[0]):
            uv, dep, ok = clip.uv[m, t], clip.depth[m, t], clip.valid[m, t]
            for a, b in lay.edges():
                if ok[a] and ok[b]:
                    child = a if lay.parents[a] == b else b
                    segs.append(((dep[a] + dep[b]) / 2.0, "bone", to_px(*uv[a]), to_px(*uv[b]),
                                 self._colour(lay, child)))
            for j in range(lay.num_joints):
                if ok[j]:
                    segs.append((dep[j] + 1e-6, "joint", to_px(*uv[j]), None, self._colour(lay, j)))
        segs.sort(key=lambda s: s[0])  # far first
        bw = max(1, int(round(self.s.bone_width * k)))
        r = self.s.joint_radius * k
        for _, kind, p, q, col in segs:
            if kind == "bone":
                draw.line([p, q], fill=col, width=bw)
            else:
                dark = tuple(int(c * 0.7) for c in col)
                draw.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], fill=dark)

    def finish(self, canvas: Image.Image) -> Image.Image:
        if self.k == 1:
            return canvas
        return canvas.reduce(self.k)  # box filter over k x k blocks, much faster than resize()


def _per_seq(value, n: int, name: str, default) -> list:
    if value is None:
        return [default(i) for i in range(n)]
    if isinstance(value, (str, bool, SkeletonLayout)) or not isinstance(value, Sequence):
        return [value] * n
    value = list(value)
    if len(value) != n:
        raise DataError(f"{len(value)} {name} for {n} sequences", field=name)
    return value


def _prepare_all(seqs, layout, view, up_axis, face_viewer, titles, labels, synthetic) -> List[_Clip]:
    if isinstance(seqs, np.ndarray) and seqs.ndim in (3, 4):
        seqs = [seqs]
    seqs = list(seqs)
    if not seqs:
        raise DataError("nothing to render (no sequences)", field="seqs")
    n = len(seqs)
    layouts = _per_seq(layout, n, "layout", lambda i: None)
    titles = _per_seq(titles, n, "titles", lambda i: f"#{i}")
    labels = _per_seq(labels, n, "labels", lambda i: "")
    synthetic = _per_seq(synthetic, n, "synthetic", lambda i: False)
    return [_prepare(s, lay, view, up_axis, face_viewer, str(t), "" if lb is None else str(lb), bool(sy))
            for s, lay, t, lb, sy in zip(seqs, layouts, titles, labels, synthetic)]


# ------------------------------------------------------------------------------ public API
def render_frames(seqs, layout: Union[LayoutLike, Sequence[LayoutLike]], *, titles: Optional[Sequence[str]] = None,
                  labels: Optional[Sequence[str]] = None, synthetic: Union[bool, Sequence[bool], None] = None,
                  ncols: Optional[int] = None, view: View = "front", up_axis: Optional[int] = None,
                  loop: bool = False, face_viewer: bool = True,
                  style: Optional[RenderStyle] = None) -> List[Image.Image]:
    """The frames of an animation grid as RGB images (what :func:`render_gif` writes).

    ``seqs`` is one ``[T, V, 3]`` / ``[M, T, V, 3]`` array or a list of them; ``layout`` one layout
    for all or one per sequence. The animation lasts as long as the longest sequence; shorter
    ones hold their last frame (``loop=False``) or start over (``loop=True``).
    """
    style = style or RenderStyle()
    clips = _prepare_all(seqs, layout, view, up_axis, face_viewer, titles, labels, synthetic)
    n = len(clips)
    ncols = int(ncols) if ncols else int(math.ceil(math.sqrt(n)))
    if ncols < 1:
        raise DataError(f"ncols must be >= 1, got {ncols}", field="ncols")
    nrows = int(math.ceil(n / ncols))
    painter = _Painter(style)
    pw, ph = painter.panel_px()
    th = style.title_height * painter.k
    t_max = max(c.num_frames for c in clips)
    # titles do not change over time: draw them once and copy the template for every frame
    template = Image.new("RGB", (pw * ncols, ph * nrows), style.background)
    tdraw = ImageDraw.Draw(template)
    origins = [((i % ncols) * pw, (i // ncols) * ph) for i in range(n)]
    for clip, (x0, y0) in zip(clips, origins):
        painter.title(tdraw, clip, x0, y0)
    frames = []
    for t in range(t_max):
        canvas = template.copy()
        draw = ImageDraw.Draw(canvas)
        for clip, (x0, y0) in zip(clips, origins):
            ti = t % clip.num_frames if loop else min(t, clip.num_frames - 1)
            painter.corner(draw, x0, y0, f"{ti + 1}/{clip.num_frames}")
            painter.skeleton(draw, clip, ti, x0, y0 + th, pw, ph - th)
        frames.append(painter.finish(canvas))
    return frames


def _gif_delay_ms(fps: float) -> int:
    """GIF stores frame delays in 1/100 s: round to the nearest 10 ms (15 fps -> 70 ms). Browsers
    slow down delays under 20 ms, so that is the floor (at most 50 fps plays in real time)."""
    return max(20, 10 * int(round(100.0 / fps)))


def _gif_bytes(frames: List[Image.Image], fps: float) -> bytes:
    # One shared palette from the first frame keeps colours stable and saves quantising each frame.
    first = frames[0].quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pal = [first] + [f.quantize(palette=first, dither=Image.Dither.NONE) for f in frames[1:]]
    buf = io.BytesIO()
    pal[0].save(buf, format="GIF", save_all=True, append_images=pal[1:], loop=0,
                duration=_gif_delay_ms(fps), disposal=1, optimize=False)
    return buf.getvalue()


def render_gif(seqs, layout: Union[LayoutLike, Sequence[LayoutLike]], path: Union[str, Path],
               fps: Optional[float] = None, titles: Optional[Sequence[str]] = None, ncols: Optional[int] = None,
               view: View = "front", *, labels: Optional[Sequence[str]] = None,
               synthetic: Union[bool, Sequence[bool], None] = None, up_axis: Optional[int] = None,
               loop: bool = False, face_viewer: bool = True, style: Optional[RenderStyle] = None) -> Path:
    """Write an animated GIF of one sequence or a grid of sequences; returns the path.

    ``fps`` defaults to the (first) layout's native rate, else 20. Sequences are not resampled:
    give them a common rate first (:func:`kinemic_aug.skeleton.resample.resample`).
    See the module docstring for views, colours and axis conventions.
    """
    frames = render_frames(seqs, layout, titles=titles, labels=labels, synthetic=synthetic, ncols=ncols,
                           view=view, up_axis=up_axis, loop=loop, face_viewer=face_viewer, style=style)
    if fps is None:
        first = layout[0] if isinstance(layout, (list, tuple)) else layout
        fps = get_layout(first).fps or 20.0
    if not (float(fps) > 0):
        raise DataError(f"fps must be positive, got {fps!r}", field="fps")
    return atomic_write_bytes(path, _gif_bytes(frames, float(fps)))


def render_strip(seq_or_seqs, layout: Union[LayoutLike, Sequence[LayoutLike]], path: Union[str, Path],
                 n_frames: int = 8, *, titles: Optional[Sequence[str]] = None,
                 labels: Optional[Sequence[str]] = None, synthetic: Union[bool, Sequence[bool], None] = None,
                 view: View = "front", up_axis: Optional[int] = None, face_viewer: bool = True,
                 style: Optional[RenderStyle] = None) -> Path:
    """Write a PNG with ``n_frames`` evenly spaced frames of each sequence side by side (one row
    per sequence, one scale per row so motion amplitude stays comparable); returns the path."""
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 1:
        raise DataError(f"n_frames must be an integer >= 1, got {n_frames!r}", field="n_frames")
    style = style or RenderStyle(panel=160)
    clips = _prepare_all(seq_or_seqs, layout, view, up_axis, face_viewer, titles, labels, synthetic)
    painter = _Painter(style)
    k = painter.k
    pw = style.panel * k
    th = style.title_height * k
    label_h = 14 * k
    row_h = th + pw + label_h
    canvas = Image.new("RGB", (pw * n_frames, row_h * len(clips)), style.background)
    draw = ImageDraw.Draw(canvas)
    for r, clip in enumerate(clips):
        y0 = r * row_h
        painter.title(draw, clip, 0, y0, width=canvas.width, extra=f"{clip.num_frames} frames")
        idx = np.unique(np.round(np.linspace(0, clip.num_frames - 1, n_frames)).astype(int))
        for c, t in enumerate(idx):
            x0 = c * pw
            # one transform per row: all columns share the scale and centre of the whole clip
            to_px = painter._transform(clip, x0, y0 + th, pw, pw)
            painter.skeleton(draw, clip, int(t), x0, y0 + th, pw, pw, to_px=to_px)
            draw.text((x0 + 4 * k, y0 + th + pw), f"t={t}", fill=(110, 110, 110), font=painter.small_font)
        draw.rectangle([0, y0 + row_h - k, canvas.width, y0 + row_h - 1], fill=(230, 230, 230))  # row separator
    img = painter.finish(canvas)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return atomic_write_bytes(path, buf.getvalue())
