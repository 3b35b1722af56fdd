"""Integrations: ``kinemic_aug.integrations.mmengine`` registers ``KineMICAugmentedDataset`` and
``RealShareSampler`` (import it from a config's ``custom_imports``); ``kinemic_aug.integrations.torch`` wraps annotations as a PyTorch dataset;
``kinemic_aug.integrations.consistency`` judges synthetic samples with a classifier trained on the shots alone."""
