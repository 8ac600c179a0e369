"""Per-section experiment drivers used by the notebooks (data -> training -> tidy results)."""
