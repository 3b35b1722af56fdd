# KineMIC augmentation defaults for MSR Action3D (Kinect v1, 15 fps): the shipped small generalist,
# MiniLM captions, one adapter per class, 20 synthetic samples per class, the real shots listed twice.
# A run's seed also seeds the augmenter (har.training.apply_seed), so seeds change shots, adapters and
# synthetic samples together. 60 adaptation steps per class is the 2-core-CPU budget (~1-2 min per class);
# the library default (AdaptConfig.steps) is 300.
kinemic = dict(labels='msr_action3d', synthetic_per_class=20, variant='kinemic', seed=0,
               cache_dir='work_dirs/kinemic_cache', device='auto', adapt=dict(steps=60))
kinemic_real_repeat = 2
