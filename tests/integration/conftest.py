"""Fixtures shared by the integration tests."""

from tests.integration.kite_fixtures import rig  # noqa: F401 - the Kite replica + real client fixture
