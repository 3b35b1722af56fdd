# KineMIC augmentation defaults for UTD-MHAD (Kinect v1, 30 fps): those of MSR Action3D (msr_default.py) with
# UTD's label set. The augmenter takes the frame rate from the layout (utd_mhad: 30 fps) and resamples between it
# and the generator's rate. A run's seed also seeds the augmenter (har.training.apply_seed).
_base_ = ['./msr_default.py']
kinemic = dict(labels='utd_mhad')
