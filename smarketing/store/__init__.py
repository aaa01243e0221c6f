"""Storage machinery under the service layer: library overrides, caches, key batching."""
