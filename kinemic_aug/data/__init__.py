"""kinemic_aug.data."""
