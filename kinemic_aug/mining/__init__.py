"""kinemic_aug.mining."""
