"""kinemic_aug.pairing."""
