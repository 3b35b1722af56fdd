"""kinemic_aug.adapt."""
