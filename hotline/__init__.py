"""hotline: the 12345 government service hotline's event-sourced case tracking.

The rooms sit at the top of the repository (domain/, application/, projections/, intake/, web/,
infra/, entrypoints/, and the city's rules/); this package gathers them under one import name,
``hotline``, through relative symlinks (``hotline/domain -> ../domain`` …). Installed from a
wheel they are ordinary subpackages of ``hotline``, so no top-level name such as ``domain`` or
``web`` is ever installed into site-packages. docs/architecture.md explains the choice.
"""

__version__ = "0.2.0"
