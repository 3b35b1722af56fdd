"""What a seed-corpus build is pinned to: the downloads and source files (sha256), their licences
and the output format. A rebuild that reads anything else stops (see :mod:`.fetch`).
"""
from __future__ import annotations

FPS = 20.0
MIN_SECONDS = 2.0
#: A cyclic clip is repeated only if its last frame matches the moved first frame this well.
MAX_CLOSURE_M = 0.3
LAYOUT = "smpl22"

PYBULLET_REQ = "pybullet==3.2.7"
# Wheels are per platform/Python; the motion files inside are identical, and those are checked one
# by one below. A wheel not in this table is accepted only if all its motion files match.
PYBULLET_WHEEL_SHA256 = {
    "pybullet-3.2.7-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl":
        "5d858abf7c12a21ef3ed351cf81dac1b5e486ec25c9ab59bfc84beb89034edff",
}
ASSIMP_DEB = "assimp-testmodels_5.2.5~ds0-1_all.deb"
ASSIMP_DEB_SHA256 = "526f326186000cd6f631ea806128548a7d3d391abd8149fddc5c4c8513e80b8a"
MOTIONS_PREFIX = "pybullet_data/data/motions/"
MOTION_SHA256 = {
    "humanoid3d_backflip.txt": "ffc5e117f69364e239eeedc86d6a30ab854500a375a1c137a405f1b7652905e6",
    "humanoid3d_cartwheel.txt": "17453459a40ec4ea08346072748ae3c7c384b49e619753e9779637fa8a9f7c49",
    "humanoid3d_crawl.txt": "104a3b675131a43e7a214e24c0ed631c6a0d814b85c8b66b71ce63b23a5731ae",
    "humanoid3d_dance_a.txt": "15ef3731f594edc9ed078170f1075815cc164acaca9e35a46db12a31ac64b717",
    "humanoid3d_dance_b.txt": "b5a9d7a3f2304f6242776d7ff6d19d1f6bcb98d78d68622761c3843b614a92b5",
    "humanoid3d_getup_facedown.txt": "1bd1a96e9175f65eb66e10f225473b4467bd70c68e283f4006b2ab090e337c0b",
    "humanoid3d_getup_faceup.txt": "5936c32d51dad9b0cd5e61df681079d160436cdce845c312f200d7a347c4040d",
    "humanoid3d_jump.txt": "a433557e94b193d8a95530572a0e32f387eb6d9996987b4216efb65444c3c641",
    "humanoid3d_kick.txt": "177cfb399466309ba7f4a8a987c3b6f6edde1cbe8b2d476e53dc6061ec5d4bac",
    "humanoid3d_punch.txt": "1ab4b654cecdb4ff3b2a4bf4086e50397bef28435bb59ab3aedd6a6bdc926fde",
    "humanoid3d_roll.txt": "50d75c2243b2859f8dcae4ad8fa14b59054dd9ee529b4fb52ec14470cd982c55",
    "humanoid3d_run.txt": "2cbe488023b243e5769299158ce7c78875ec4b701a2ffe6c0beeaf83d16ca87b",
    "humanoid3d_spin.txt": "9614f10b92e7a8b123990ad5bcfafc65aa4d8fa8ac7f10ade3c3591122d34425",
    "humanoid3d_spinkick.txt": "60ec9c200d96e0cd71693061f24db0bd8da9eb295daf487f6f60f8dfb324075a",
    "humanoid3d_walk.txt": "32d082c3599bc40aac50b1afa196ff1e2cf3842bb40f0541ab088845f6328a41",
    "walker/0walk_forward.txt": "a8790c45361077ff07d99c3f00a1fa73b78ff3ec77d083188f13eac75dcc0a58",
    "walker/turn_left0.txt": "5120bb55a4eb3ecfa75bcffcd472ad0b5be01647536f707896b9a9af655d6fce",
    "walker/turn_left1.txt": "e78540dcccfad969ff1304182de293714c1db163096ee37a02dbf34930e0c3d0",
    "walker/turn_right0.txt": "c1fa371a7d7d625970ad7fec0bb2d7ba59205acb74f8fac15f46799ae3a80ce3",
    "walker/turn_right1.txt": "3a655a1e9334cef592b5b7bef4fd7a52e46fcacc8c7c807cfa1bee8249e6350d",
}
BVH_MEMBER_DIR = "usr/share/assimp/models/BVH/"
BVH_SHA256 = {
    "01_01.bvh": "1d9ee909452ee62784306545cf1fcd634243db1173e0c90cecbed793e50361a8",
    "01_03.bvh": "72d3f37de5af9adfc228dda72422cadb8cfc58d1cd8336076241ba115715c87c",
}

LICENCE_DEEPMIMIC = "zlib (pybullet 3.2.7 wheel); DeepMimic motion data MIT"
LICENCE_CMU = ("CMU Graphics Lab Motion Capture Database: free for research and commercial use; acknowledge "
               "mocap.cs.cmu.edu and NSF EIA-0196217")
CMU_ACK = ("The data used in this project was obtained from mocap.cs.cmu.edu. The database was created with "
           "funding from NSF EIA-0196217.")
