"""`make model`: fine-tune tracuu's embedder from ../shared/training and write the shipped weights.

Never imported by the product: indexer/ reads what this package writes (indexer/models/).
"""
