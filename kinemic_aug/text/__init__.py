"""kinemic_aug.text."""
