"""Infrastructure: configuration, the composition root, adapters and the ``hotline`` CLI."""
