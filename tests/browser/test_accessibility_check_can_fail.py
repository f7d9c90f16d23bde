"""The accessibility check used by every browser test really runs axe-core and really fails."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.a11y import check_accessibility, serve_axe
from tests.browser.conftest import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_it_fails_on_a_serious_violation_and_on_a_dangling_reference(browser: Any, web_server: str) -> None:
    context = browser.new_context(viewport=DESKTOP)
    serve_axe(context)
    page = context.new_page()
    page.goto(web_server + "/")
    check_accessibility(page, "landing page")
    assert page.evaluate("() => typeof axe.run") == "function"  # axe-core was served and loaded
    page.evaluate(
        "() => { const i = document.createElement('input'); i.type = 'text';"
        " document.querySelector('main').appendChild(i); }"
    )
    with pytest.raises(AssertionError, match="label"):
        check_accessibility(page, "unlabelled input")
    page.goto(web_server + "/")
    page.evaluate(
        "() => { const l = document.createElement('ul'); l.className = 'errorlist';"
        " l.setAttribute('role', 'alert'); l.innerHTML = '<li>x</li>';"
        " document.querySelector('main').appendChild(l); }"
    )
    with pytest.raises(AssertionError, match="errorlist"):
        check_accessibility(page, "error list with role=alert")
    context.close()
