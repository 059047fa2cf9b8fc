"""The faas Python runtime: the same HTTP contract as the Node runtime (faas-runtime/CONTRACT.md),
standard library only, because it is copied into images as is."""
