"""Storage under the service layer: recorders, caches, key batching, the key store and the log chain."""
