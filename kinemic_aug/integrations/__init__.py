"""kinemic_aug.integrations."""
