"""The operator's screens beyond the line view — order picking, alarm shelving, the scanner
station — refuse a missing CSRF token and a role that may not run the line, and answer bad
input with what is wrong and how to fix it; picking an order is audited and opens its batch."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import Engine

from ebr.audit.actor import Actor
from ebr.orders import PackagingOrder
from gateway.api.login_limit import LoginLimiter, LoginLimits
from gateway.hmi import HmiSettings, LineConsole, create_hmi_app
from gateway.hmi.operator_install import install_operator
from gateway.hmi.order_pick import OrderPicker
from gateway.hmi.sessions import HmiSessions
from tests.ebr.recipe_fixtures import RecipeSite, order
from tests.gateway.hmi.hmi_fixtures import IDLE_S, Clock, Hmi

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
POSTS = ["/orders/pick", "/alarms/shelve", "/alarms/unshelve", "/station/add", "/station/destroy"]


class Screens(Hmi):
    site: RecipeSite
    opened: list[PackagingOrder]


@pytest.fixture
async def screens(engine: Engine) -> AsyncIterator[Screens]:
    site = RecipeSite(engine)
    opened: list[PackagingOrder] = []

    async def open_batch(picked: PackagingOrder) -> None:
        opened.append(picked)

    clock = Clock()
    limiter = LoginLimiter(LoginLimits(window_s=60, per_address=50, per_username=10))
    sessions = HmiSessions(site.users, idle_timeout_s=IDLE_S, limiter=limiter, clock=clock)
    app = create_hmi_app(
        site.users,
        LineConsole(site.users),
        line_name="Line 1",
        settings=HmiSettings(idle_timeout_s=IDLE_S),
        sessions=sessions,
    )
    install_operator(
        app, orders=OrderPicker(site.book, site.trail, "line-1", open_batch=open_batch)
    )
    transport = httpx.ASGITransport(app=app, client=("192.0.2.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://hmi") as client:
        found = Screens(site, clock, client)
        found.opened = opened
        yield found


@pytest.mark.parametrize("path", POSTS)
async def test_a_post_without_the_csrf_token_is_refused(screens: Screens, path: str) -> None:
    await screens.log_in("olga")
    refused = await screens.http.post(path, data={"order": "PO-1", "alarm": "X", "source": "y"})
    assert refused.status_code == 403
    assert "no CSRF token" in refused.text
    assert "reload the page" in refused.text


@pytest.mark.parametrize("path", POSTS)
async def test_a_role_that_may_not_run_the_line_is_refused(screens: Screens, path: str) -> None:
    token = await screens.log_in("quinn")
    refused = await screens.http.post(path, data={"csrf_token": token, "order": "PO-1"})
    assert refused.status_code == 403
    assert "quinn (qa) may not do this" in refused.text
    assert not screens.site.events("order_picked")


async def test_the_operator_picks_an_open_order_of_this_line(screens: Screens) -> None:
    mes = Actor(username="mes")
    taken = screens.site.book.download(order("PO-7", lot="L7", quantity=1200), mes)
    screens.site.book.download(order("PO-8", lot="L8", line_id="line-2"), mes)
    token = await screens.log_in("olga")
    page = await screens.http.get("/orders", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "PO-7" in page.text
    assert "L7" in page.text
    assert "1,200" in page.text
    assert "Nov 30, 2028" in page.text, "the expiry, localized"
    assert "PO-8" not in page.text, "another line's order is not offered"
    picked = await screens.http.post("/orders/pick", data={"csrf_token": token, "order": "PO-7"})
    assert picked.status_code == 303
    assert picked.headers["location"] == "/line?done=pick"
    assert [o.batch_id for o in screens.opened] == [taken.batch_id], "its batch is opened"
    assert screens.site.events("order_picked") == ["PO-7"]


@pytest.mark.parametrize(
    ("number", "what", "fix"),
    [
        ("", "no order chosen", "tap an order in the list"),
        ("PO-404", "there is no packaging order 'PO-404'", "pick an order from the list"),
        ("PO-8", "order PO-8 is for line line-2, not this line (line-1)", "of this line"),
    ],
)
async def test_a_bad_pick_says_why_and_records_nothing(
    screens: Screens, number: str, what: str, fix: str
) -> None:
    screens.site.book.download(order("PO-8", lot="L8", line_id="line-2"), Actor(username="mes"))
    token = await screens.log_in("olga")
    refused = await screens.http.post("/orders/pick", data={"csrf_token": token, "order": number})
    assert refused.status_code == 409
    assert str(escape(what)) in refused.text
    assert fix in refused.text
    assert not screens.opened
    assert not screens.site.events("order_picked")


@pytest.mark.parametrize(
    ("form", "what", "fix"),
    [
        ({"minutes": "7", "reason": "noisy"}, "shelving duration '7' is not offered", "choose 5"),
        ({"minutes": "abc", "reason": "noisy"}, "'abc' is not offered", "min"),
        ({"minutes": "30", "reason": "  "}, "the reason is empty", "say why the alarm"),
        ({"minutes": "30", "reason": "noisy"}, "no batch is on the line", "start the line"),
    ],
)
async def test_shelving_refuses_bad_input(
    screens: Screens, form: dict[str, str], what: str, fix: str
) -> None:
    token = await screens.log_in("olga")
    data = {"csrf_token": token, "alarm": "LOW_GRADE", "source": "camera-1", **form}
    refused = await screens.http.post("/alarms/shelve", data=data)
    assert refused.status_code in (400, 409)
    assert str(escape(what)) in refused.text
    assert fix in refused.text
    page = await screens.http.get("/alarms/shelve/LOW_GRADE/camera-1")
    assert page.status_code == 200
    assert 'name="reason"' in page.text
    assert 'id="minutes"' in page.text


@pytest.mark.parametrize(
    ("path", "form", "what"),
    [
        ("/station/add", {"case": "", "unit": "x"}, "the case field is empty"),
        ("/station/add", {"case": "c", "unit": " "}, "the unit field is empty"),
        ("/station/destroy", {"unit": "u", "reason": "lost"}, "'lost' is not a reason"),
        ("/station/sample", {"unit": "u", "note": ""}, "the reason is empty"),
        ("/station/identify", {"code": "0104012345"}, "no batch is on the line"),
    ],
)
async def test_the_station_refuses_bad_scans_and_keeps_them(
    screens: Screens, path: str, form: dict[str, str], what: str
) -> None:
    token = await screens.log_in("olga")
    refused = await screens.http.post(path, data={"csrf_token": token, **form})
    assert refused.status_code in (400, 409)
    assert str(escape(what)) in refused.text
    for value in form.values():
        if value.strip() and value != "lost":
            assert f'value="{value}"' in refused.text, "the scans are kept for a retry"


async def test_an_unknown_station_operation_is_refused(screens: Screens) -> None:
    token = await screens.log_in("olga")
    assert (await screens.http.get("/station/juggle")).status_code == 404
    refused = await screens.http.post("/station/juggle", data={"csrf_token": token})
    assert refused.status_code == 404
    assert "no station operation &#39;juggle&#39;" in refused.text
    page = await screens.http.get("/station/pack")
    assert 'id="f-units"' in page.text


async def test_orders_and_station_are_in_the_operators_navigation_only(screens: Screens) -> None:
    await screens.log_in("olga")
    line = await screens.http.get("/line")
    assert 'href="/orders"' in line.text
    assert 'href="/station"' in line.text
    await screens.http.post("/logout", data={"csrf_token": (await screens.log_in("olga"))})
    await screens.log_in("quinn")
    line = await screens.http.get("/line")
    assert 'href="/orders"' not in line.text
    assert 'href="/station"' not in line.text
