"""Suite-wide options: tests marked `slow` (chaos, soak) run only with --slow."""

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def newsclean():
    """The worker's app without a broker (NER off, no web server); crashes are only recorded."""
    from streams.config import Settings
    from streams.worker.app import Newsclean

    return Newsclean(Settings(ner_enabled=False, web_enabled=False), on_crash=lambda exc: None)
