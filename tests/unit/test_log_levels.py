"""``configure_logging``: LOG_LEVEL=DEBUG never turns on the libraries that log signed URLs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from core.log import QUIET_LIBRARIES, configure_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Put the root logger and the libraries' loggers back as they were."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    yield
    root.handlers, root.level = handlers, level
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


@pytest.mark.usefixtures("restored_logging")
def test_debug_is_ours_only_urllib3_and_botocore_stay_at_info() -> None:
    configure_logging("json", "DEBUG")
    assert logging.getLogger("service.image_service").isEnabledFor(logging.DEBUG)
    for name in ("urllib3.connectionpool", "botocore.endpoint", "botocore.httpsession"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
        assert logging.getLogger(name).isEnabledFor(logging.INFO), name


@pytest.mark.usefixtures("restored_logging")
def test_a_quieter_level_applies_to_the_libraries_too() -> None:
    configure_logging("text", "WARNING")
    assert not logging.getLogger("urllib3.connectionpool").isEnabledFor(logging.INFO)
    assert logging.getLogger("botocore").isEnabledFor(logging.WARNING)
