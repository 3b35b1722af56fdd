"""kinemic-aug: few-shot skeleton action synthesis for graph-convolution classifiers.

torch carries a lower bound only, so a CPU or CUDA build that is already installed is kept.
Install torch first and alone (see the README) so pip does not pull a CUDA build you did not ask for.
"""
from setuptools import find_packages, setup

extras = {
    "mmengine": ["mmengine>=0.10.4,<0.11"],
    # CLIP text tower from local weights; open_clip itself needs torchvision and is optional.
    "clip": ["transformers>=4.40", "ftfy", "regex"],
    "graph": ["torch-geometric>=2.5"],
    "dev": ["pytest>=7", "hypothesis>=6", "pytest-timeout",
            "pdoc>=16; python_version >= '3.10'"],  # pdoc (make docs) 16 needs 3.10+
}
extras["all"] = sorted({d for v in extras.values() for d in v})

setup(
    name="kinemic-aug",
    version="0.1.0",
    description="Few-shot skeleton action synthesis (KineMIC) feeding ST-GCN training",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    packages=find_packages(include=["kinemic_aug", "kinemic_aug.*", "har", "har.*"]),
    include_package_data=True,
    package_data={"kinemic_aug": ["assets/**/*", "assets/*"]},
    install_requires=[
        "torch>=2.1",
        "numpy>=1.23",
        "scipy>=1.9",
        "matplotlib>=3.6",
        "pillow>=9",
        "tokenizers>=0.15",
        "safetensors>=0.4",
        "tqdm>=4.60",
    ],
    extras_require=extras,
    entry_points={"console_scripts": []},
)
