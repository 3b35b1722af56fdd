import pickle
import time

import numpy as np
import pytest
from PIL import Image

from kinemic_aug.errors import DataError
from kinemic_aug.skeleton import get_layout
from kinemic_aug.skeleton.retarget import rest_pose
from kinemic_aug.skeleton.render import RenderStyle, render_frames, render_gif, render_strip

STYLE = RenderStyle()  # 256 px panels, 34 px title band


def _walk(t: int = 12, layout: str = "smpl22") -> np.ndarray:
    """The rest pose sliding forward and bobbing; only for drawing."""
    x = np.repeat(rest_pose(layout)[None], t, axis=0)
    x[..., 2] += np.linspace(0, 0.5, t)[:, None]
    x[..., 1] += 0.03 * np.sin(np.linspace(0, 4 * np.pi, t))[:, None]
    return x


def _mask(img: Image.Image, colour, tol: int = 40) -> np.ndarray:
    a = np.asarray(img.convert("RGB")).astype(int)
    return (np.abs(a - np.array(colour)).sum(-1) < tol)


def _panel(img: Image.Image, i: int, ncols: int) -> Image.Image:
    w, h = STYLE.panel, STYLE.panel + STYLE.title_height
    x0, y0 = (i % ncols) * w, (i // ncols) * h
    return img.crop((x0, y0 + STYLE.title_height, x0 + w, y0 + h))


def _rotate_y(x: np.ndarray, deg: float) -> np.ndarray:
    a = np.radians(deg)
    r = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    return (x @ r.T).astype(np.float32)


def test_gif_is_animated_with_one_frame_per_time_step(tmp_path):
    seqs = [_walk(12), _walk(7, "nturgb+d"), _walk(9, "coco")]
    path = render_gif(seqs, ["smpl22", "nturgb+d", "coco"], tmp_path / "sub" / "grid.gif", fps=20,
                      titles=["a", "b", "c"], ncols=2)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.is_animated and im.n_frames == 12
        assert im.size == (2 * STYLE.panel, 2 * (STYLE.panel + STYLE.title_height))
        assert im.info["duration"] == 50
        im.seek(5)
        assert im.convert("RGB").getextrema() != ((255, 255), (255, 255), (255, 255))  # not blank


def test_front_view_person_is_upright_and_faces_the_viewer():
    frame = render_frames(_walk(3), "smpl22")[0]
    panel = _panel(frame, 0, 1)
    left, right = _mask(panel, STYLE.left), _mask(panel, STYLE.right)
    assert left.sum() > 200 and right.sum() > 200
    cols = np.arange(panel.width)
    # facing the viewer: the person's left limbs appear on the viewer's right
    assert (cols[None] * left).sum() / left.sum() > (cols[None] * right).sum() / right.sum() + 20
    drawn = np.argwhere(left | right | _mask(panel, STYLE.center))  # limbs only, not the floor line
    height, width = np.ptp(drawn, axis=0)
    assert height > 2 * width  # a standing person is tall and narrow
    # the head (midline grey) is on top, the feet (coloured) at the bottom
    top_rows = _mask(panel, STYLE.center)[drawn[:, 0].min():drawn[:, 0].min() + 10]
    assert top_rows.any()
    rows, mid = np.arange(panel.height)[:, None], _mask(panel, STYLE.center)
    assert (rows * left).sum() / left.sum() > (rows * mid).sum() / mid.sum()  # limbs lower than the torso on average


def test_views_are_relative_to_the_body_and_z_up_is_accepted():
    x = _walk(2)
    base = np.asarray(render_frames(x, "smpl22", view="oblique")[0]).astype(int)
    turned = np.asarray(render_frames(_rotate_y(x, 180), "smpl22", view="oblique")[0]).astype(int)
    assert np.abs(base - turned).mean() < 1.0  # turned around, still drawn from the front-right
    raw = np.asarray(render_frames(_rotate_y(x, 180), "smpl22", view="oblique", face_viewer=False)[0]).astype(int)
    assert np.abs(base - raw).mean() > 2.0
    z_up = np.stack([x[..., 0], -x[..., 2], x[..., 1]], axis=-1)  # y-up -> z-up, a proper rotation
    np.testing.assert_array_equal(np.asarray(render_frames(z_up, "smpl22", view="oblique", up_axis=2)[0]), base)
    side = render_frames(x, "smpl22", view="side")[0]
    front = render_frames(x, "smpl22", view=(0, 0))[0]
    assert np.abs(np.asarray(side).astype(int) - np.asarray(front).astype(int)).mean() > 2.0


def test_shorter_clips_hold_or_loop():
    long, short = _walk(10), _walk(4)
    short[..., 0] += np.linspace(0, 0.8, 4)[:, None]  # every frame of the short clip differs
    held = render_frames([long, short], "smpl22", ncols=2)
    looped = render_frames([long, short], "smpl22", ncols=2, loop=True)
    assert len(held) == len(looped) == 10
    as_array = lambda im: np.asarray(im)  # noqa: E731
    np.testing.assert_array_equal(as_array(_panel(held[8], 1, 2)), as_array(_panel(held[3], 1, 2)))
    np.testing.assert_array_equal(as_array(_panel(looped[5], 1, 2)), as_array(_panel(looped[1], 1, 2)))
    assert not np.array_equal(as_array(_panel(looped[5], 1, 2)), as_array(_panel(looped[3], 1, 2)))


def test_synthetic_tag_is_shown_only_when_flagged():
    frames = render_frames([_walk(2), _walk(2)], "smpl22", ncols=2, synthetic=[True, False], labels=["kick", "kick"])
    title = lambda i: frames[0].crop((i * STYLE.panel, 0, (i + 1) * STYLE.panel, STYLE.title_height))  # noqa: E731
    assert _mask(title(0), STYLE.synthetic_tag, tol=60).sum() > 20
    assert _mask(title(1), STYLE.synthetic_tag, tol=60).sum() == 0


def test_strip_png_has_one_row_per_sequence(tmp_path):
    path = render_strip([_walk(20), _walk(5, "msr_action3d")], ["smpl22", "msr_action3d"], tmp_path / "s.png",
                        n_frames=6, titles=["walk", "short"])
    with Image.open(path) as im:
        assert im.format == "PNG"
        w, h = im.size
        im = im.convert("RGB")
    assert w == 6 * 160 and h == 2 * (STYLE.title_height + 160 + 14)
    # the 5-frame clip has only 5 distinct frames: its 6th column stays empty
    row2 = np.asarray(im)[h // 2:-2]  # without the row separator line
    assert (row2[:, 5 * 160:] == 255).all() and not (row2[:, 4 * 160:5 * 160] == 255).all()
    single = render_strip(_walk(3), "smpl22", tmp_path / "one.png", n_frames=3)
    assert Image.open(single).size == (3 * 160, STYLE.title_height + 160 + 14)


def test_zero_joints_are_not_drawn():
    x = _walk(2)
    x[:, get_layout("smpl22").index("L_wrist")] = 0.0  # an untracked joint
    panel = _panel(render_frames(x, "smpl22")[0], 0, 1)
    full = _panel(render_frames(_walk(2), "smpl22")[0], 0, 1)
    assert _mask(panel, STYLE.left).sum() < _mask(full, STYLE.left).sum()
    assert np.asarray(render_frames(np.zeros((3, 22, 3)), "smpl22")[0]).min() > 0  # nothing to draw, no crash


@pytest.mark.parametrize("kwargs,field", [
    (dict(seqs=np.zeros((4, 21, 3)), layout="smpl22"), "seqs"),
    (dict(seqs=np.zeros((4, 22)), layout="smpl22"), "seqs"),
    (dict(seqs=[], layout="smpl22"), "seqs"),
    (dict(seqs=[np.zeros((4, 22, 3))] * 2, layout="smpl22", titles=["only one"]), "titles"),
    (dict(seqs=np.zeros((4, 22, 3)), layout="smpl22", view="below"), "view"),
    (dict(seqs=np.zeros((4, 22, 3)), layout="smpl22", up_axis=3), "up_axis"),
    (dict(seqs=np.full((4, 22, 3), np.nan), layout="smpl22"), "seqs"),
])
def test_bad_input_raises_data_error(kwargs, field):
    seqs, layout = kwargs.pop("seqs"), kwargs.pop("layout")
    with pytest.raises(DataError, match=f"field '{field}'"):
        render_frames(seqs, layout, **kwargs)


def test_twenty_clip_grid_renders_fast(tmp_path):
    rng = np.random.default_rng(0)
    seqs = [_walk(60) + rng.normal(scale=0.01, size=(60, 22, 3)).astype(np.float32) for _ in range(20)]
    start = time.perf_counter()
    path = render_gif(seqs, "smpl22", tmp_path / "big.gif", fps=20, synthetic=True)
    assert time.perf_counter() - start < 30.0
    with Image.open(path) as im:
        assert im.n_frames == 60


def test_real_msr_grid_and_strip(msr_pkl, tmp_path):
    with open(msr_pkl, "rb") as f:
        data = pickle.load(f)
    anns = data["annotations"][:40:8]
    seqs = [a["keypoint"][0] for a in anns]
    gif = render_gif(seqs, "msr_action3d", tmp_path / "msr.gif", titles=[a["frame_dir"] for a in anns])
    png = render_strip(seqs, "msr_action3d", tmp_path / "msr.png", n_frames=5)
    with Image.open(gif) as im:
        # 15 fps; GIF stores delays in 1/100 s
        assert im.n_frames == max(len(s) for s in seqs) and im.info["duration"] == 70
    assert Image.open(png).size[0] == 5 * 160
