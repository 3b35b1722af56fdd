# KineMIC augmentation defaults for MSR Action3D (Kinect v1, 15 fps): the shipped small generalist,
# MiniLM captions, one adapter per class, 60 synthetic samples per class. A run's seed also seeds the
# augmenter (har.training.apply_seed), so seeds change shots, adapters and synthetic samples together.
kinemic = dict(labels='msr_action3d', synthetic_per_class=60, variant='kinemic', seed=0,
               cache_dir='work_dirs/kinemic_cache', device='auto')
