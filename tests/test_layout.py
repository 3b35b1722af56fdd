import pytest

from kinemic_aug.errors import LayoutError
from kinemic_aug.skeleton import SkeletonLayout, get_layout, list_layouts, register_layout


@pytest.mark.parametrize("name,v", [("nturgb+d", 25), ("msr_action3d", 20), ("smpl22", 22),
                                    ("deepmimic15", 15), ("cmu_bvh", 22), ("coco", 17)])
def test_builtin_layouts_are_trees(name, v):
    lay = get_layout(name)
    assert lay.num_joints == v
    assert len(lay.edges()) == v - 1
    assert len(lay.bones()) == v
    # left/right pairs are symmetric and name-consistent
    for a, b in lay.flip_pairs():
        assert lay.side(a) == "left" and lay.side(b) == "right"


def test_aliases_and_unknown():
    assert get_layout("humanml") is get_layout("smpl22")
    assert get_layout("ntu25").name == "nturgb+d"
    with pytest.raises(LayoutError, match="unknown skeleton layout 'nope'.*known layouts"):
        get_layout("nope")


def test_ntu_bones_follow_pyskl():
    bones = dict(get_layout("nturgb+d").bones())
    assert bones[21] == 22 and bones[23] == 24 and bones[20] == 20 and bones[0] == 1


def test_flip_pairs_smpl():
    pairs = get_layout("smpl22").flip_pairs()
    assert (1, 2) in pairs and (20, 21) in pairs and len(pairs) == 8


def test_custom_layout_from_pyskl_dict_and_roundtrip():
    lay = SkeletonLayout.from_dict(dict(num_node=4, inward=[(1, 0), (2, 1), (3, 1)], center=0, name="toy4"))
    assert lay.parents == (-1, 0, 1, 1)
    again = SkeletonLayout.from_dict(lay.to_dict())
    assert again == lay
    register_layout(lay, overwrite=True)
    assert get_layout("toy4") is lay


def test_bad_layouts_raise():
    with pytest.raises(LayoutError, match="exactly one root"):
        SkeletonLayout("bad", ("a", "b"), (-1, -1), 0, (0, 1), (0, 1))
    with pytest.raises(LayoutError, match="cycle"):
        SkeletonLayout("bad", ("a", "b", "c"), (-1, 2, 1), 0, (0, 1), (0, 1))
    with pytest.raises(LayoutError, match="outside"):
        SkeletonLayout("bad", ("a", "b"), (-1, 0), 5, (0, 1), (0, 1))
    with pytest.raises(LayoutError, match="no inward edge"):
        SkeletonLayout.from_dict(dict(num_node=3, inward=[(1, 0)], center=0))


def test_cmu_sides_do_not_match_bare_prefixes():
    cmu = get_layout("cmu_bvh")
    assert cmu.side(cmu.index("LowerBack")) == "center"
    assert cmu.side(cmu.index("LeftArm")) == "left" and cmu.side(cmu.index("RightLeg")) == "right"
