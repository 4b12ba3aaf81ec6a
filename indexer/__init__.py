"""tracuu indexer: files -> normalized documents -> structured chunks -> index."""
