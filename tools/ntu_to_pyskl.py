"""NTU RGB+D (60 or 120) to a PYSKL annotation pickle with the official splits (xsub by performer; xview or xset).

    python tools/ntu_to_pyskl.py nturgb+d_skeletons/ --out data/ntu120_3d.pkl --dataset ntu120 \\
        --missing ntu120_missing.txt --two-person drop
    python tools/ntu_to_pyskl.py ntu60_joints.npy --names ntu60_names.txt --out data/ntu60_3d.pkl --dataset ntu60

The input is a folder of ``.skeleton`` files, or a ``.npy`` array ``(N, 3, T, 25, M)`` with a text file of its
sample names (one ``SsssCcccPpppRrrrAaaa`` per line, in array order); the array must be zero-padded (frames
after a clip's end and absent persons all zeros), as the conversion cuts trailing all-zero frames and drops
all-zero persons. Arrays padded by repeating the clip would keep the repeats. ``--two-person``: the two-person actions
(A050-A060, A106-A120) are kept (default; for a classifier, the augmenter refuses them as shots), dropped (as
the KineMIC reference does) or refused. The pickle's ``meta`` lists every skipped sample and why.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from kinemic_aug.data.ntu import TWO_PERSON_MODES, arrays_to_pyskl, ntu_to_pyskl  # noqa: E402
from kinemic_aug.errors import DataError  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="folder of .skeleton files, or a .npy array (N, 3, T, 25, M)")
    ap.add_argument("--out", required=True, help="pickle to write (atomically)")
    ap.add_argument("--dataset", choices=["ntu60", "ntu120"], default="ntu120")
    ap.add_argument("--names", default=None, help="with a .npy source: the sample names, one per line")
    ap.add_argument("--missing", default=None, help=".skeleton source: ids to skip (e.g. ntu120_missing.txt)")
    ap.add_argument("--max-bodies", type=int, default=2)
    ap.add_argument("--two-person", choices=list(TWO_PERSON_MODES), default="keep")
    a = ap.parse_args(argv)
    src = Path(a.source)
    try:
        if src.suffix == ".npy":
            import numpy as np

            if a.missing is not None or a.max_bodies != 2:
                raise DataError("--missing and --max-bodies apply to .skeleton folders; for an array, select the "
                                "samples and persons before saving it", source=str(src), field="source")
            if a.names is None:
                raise DataError("a .npy source needs --names (one sample name per line, in array order)",
                                source=str(src), field="names")
            names = [ln.strip() for ln in Path(a.names).read_text().splitlines() if ln.strip()]
            data = arrays_to_pyskl(np.load(src, mmap_mode="r"), names, a.out, dataset=a.dataset,
                                   two_person=a.two_person)
        else:
            data = ntu_to_pyskl(src, a.out, dataset=a.dataset, missing_list=a.missing, max_bodies=a.max_bodies,
                                two_person=a.two_person)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    skipped = data["meta"]["skipped"]
    print(f"wrote {a.out}: {len(data['annotations'])} samples; skipped "
          + ", ".join(f"{k.replace('_', '-')}: {len(v)}" for k, v in skipped.items()))
    for name, ids in sorted(data["split"].items()):
        print(f"  {name}: {len(ids)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
