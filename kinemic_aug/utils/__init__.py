"""Small shared helpers (atomic IO, seeding, checksums)."""
