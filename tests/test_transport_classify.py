"""Issue 9, redesign: exceptions are classified by class (every requests exception has its own entry). The module
graph's checks (layers, no cycle, the sandbox beside the core) live in test_architecture.py."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import requests

import lucidframes as lf

PACKAGE = Path(lf.__file__).resolve().parent
REQUESTS_ERRORS = sorted(
    (
        cls
        for _name, cls in inspect.getmembers(requests.exceptions, inspect.isclass)
        if issubclass(cls, requests.exceptions.RequestException)
    ),
    key=lambda c: c.__name__,
)


@pytest.mark.parametrize("cls", REQUESTS_ERRORS, ids=lambda c: c.__name__)
def test_every_requests_exception_has_its_own_entry(cls):
    from lucidframes._http.classify import EXCEPTION_TABLE, classify_exception

    assert cls in EXCEPTION_TABLE
    err = cls("boom", "doc", 0) if issubclass(cls, ValueError) else cls("boom")  # JSONDecodeError(msg, doc, pos)
    assert classify_exception(err) is EXCEPTION_TABLE[cls]
    assert issubclass(EXCEPTION_TABLE[cls].error, lf.APIError)


@pytest.mark.parametrize("cls", REQUESTS_ERRORS, ids=lambda c: c.__name__)
def test_every_requests_exception_becomes_one_of_our_errors(cls):
    from lucidframes._http.classify import classify_exception

    err = cls("boom", "doc", 0) if issubclass(cls, ValueError) else cls("boom")
    failure = classify_exception(err)
    assert failure is not None and issubclass(failure.error, lf.APIError)


def test_the_table_is_keyed_by_class_not_by_name():
    from lucidframes._http.classify import EXCEPTION_TABLE, classify_exception

    assert all(isinstance(key, type) and issubclass(key, BaseException) for key in EXCEPTION_TABLE)
    assert classify_exception(KeyError("not a transport failure")) is None
