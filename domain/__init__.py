"""The hotline's domain model: plain Python, no web, broker or database imports.

Aggregates (cases, supervision items, meetings), the working-day calendar and the rules
(time limits, routing) that a city edits as data. Infrastructure lives in ``infra/``.
"""
