"""Shared pytest setup: fixtures for real components live in ``tests/support``."""

pytest_plugins = [
    "tests.support.mysql_fixtures",
    "tests.support.s3_fixtures",
    "tests.support.openai_fixtures",
    "tests.support.live_server_fixtures",
    "tests.support.pool_stats",
]
