"""kinemic_aug.generator."""
