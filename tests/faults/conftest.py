"""Live web servers for these tests (a real process, real HTTP): tests/support/servers.py."""

from tests.support.servers import live_server  # noqa: F401 - a fixture
