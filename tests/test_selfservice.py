"""Partner self-service page: off by default, per partner, size-limited, CSRF-safe, escaped, nothing kept or logged."""

from __future__ import annotations

import base64
import concurrent.futures
import datetime as dt
import logging
import re

import anyio
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Message, Scope

from hub.webhooks import create_webhook_app, selfservice_routes, token_env
from hub.webhooks._selfservice import CSRF_COOKIE, FORM_ROOM
from tests.fixtures.partners import PARTNERS, X12_DATA

NOW = dt.datetime(2024, 2, 12, 9, 30)  # the golden acks' date and time
ON = {"HUB_SELFSERVICE_ENABLED": "1"}
GOOD_850 = (X12_DATA / "harbor_850_vics.x12").read_bytes()
# PO102 (quantity) of the first line made invalid; the '<b>' also proves the offending value is escaped.
BAD_ELEMENT = GOOD_850.replace(b"PO1*1*36*EA", b"PO1*1*3<b>6*EA")
assert BAD_ELEMENT != GOOD_850


def client(env: dict[str, str] | None = None) -> TestClient:
    """The self-service routes alone, with a fixed clock so the acks can be compared byte for byte."""
    app = Starlette(routes=selfservice_routes(PARTNERS, env=ON if env is None else env, now=lambda: NOW))
    return TestClient(app, base_url="http://hub.test")


def open_page(c: TestClient, partner: str = "harbor") -> str:
    """GET the form (sets the CSRF cookie) and return the CSRF value of its hidden field."""
    page = c.get(f"/selfservice/{partner}")
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def upload(c: TestClient, data: bytes, *, partner: str = "harbor", name: str = "po.x12", **fields: str):
    csrf = open_page(c, partner)
    return c.post(f"/selfservice/{partner}", data={"csrf": csrf, **fields}, files={"file": (name, data)})


def element(html: str, element_id: str) -> str:
    """The raw (still escaped) inner HTML of the element with this id."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(pre|p|strong)>', html, re.S)
    assert match, f"no element #{element_id} in the page"
    return match.group(1)


def unescaped(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&#34;", '"') \
        .replace("&amp;", "&")


# -- off unless enabled, known X12 partners only -------------------------------------------------------------------

@pytest.mark.parametrize("env", [{}, {"HUB_SELFSERVICE_ENABLED": "0"}, {"HUB_SELFSERVICE_ENABLED": ""}])
def test_the_page_is_off_unless_the_operator_enables_it(env):
    app = create_webhook_app(lambda: pytest.fail("the store must not be opened"), PARTNERS, env=env)
    with TestClient(app) as c:
        assert c.get("/selfservice/harbor").status_code == 404
        assert c.post("/selfservice/harbor", files={"file": ("po.x12", GOOD_850)}).status_code == 404
        assert c.get("/healthz").status_code == 200  # the receiver itself is unaffected


def test_enabled_in_the_webhook_app_it_is_served_next_to_the_receiver():
    app = create_webhook_app(lambda: pytest.fail("the store must not be opened"), PARTNERS, env=ON)
    with TestClient(app) as c:
        response = upload(c, GOOD_850)
    assert response.status_code == 200
    assert "Accepted" in element(response.text, "outcome")


@pytest.mark.parametrize("partner", ["nobody", "trailhead", "marketplace_us", "..%2F..%2Fetc"])
def test_unknown_partners_and_partners_without_x12_get_the_same_404(partner):
    c = client()
    assert c.get(f"/selfservice/{partner}").status_code == 404
    assert c.post(f"/selfservice/{partner}", files={"file": ("po.x12", GOOD_850)}).status_code == 404


# -- the report and the acks ---------------------------------------------------------------------------------------

def test_a_good_850_is_accepted_and_shows_the_exact_997_downloadable():
    response = upload(client(), GOOD_850)
    assert response.status_code == 200
    html = response.text
    assert element(html, "outcome").strip() == "Accepted"
    report = unescaped(element(html, "report"))
    assert "interchange 000007001 from ZZ/HARBORPINE (harbor), production, version 00401: accepted" in report
    assert "set ISA 000007001/GS 7001/ST 0001 (850): accepted: original PO HP-240212-01, 2 line(s)" in report
    golden = (X12_DATA / "harbor_850_vics.997.txt").read_text()
    assert unescaped(element(html, "ack-1")) == golden
    assert "ST*997" not in report and "we would send" not in report  # shown once, in its own block
    link = re.search(r'id="download-1" download="([^"]+)"\s+href="data:text/plain;charset=utf-8;base64,([^"]+)"', html)
    assert link.group(1) == "997_HARBORPINE_000000001.x12"
    assert base64.b64decode(link.group(2)).decode() == golden
    assert "ack-2" not in html


def test_a_bad_element_shows_the_offending_value_escaped_and_a_997_rejecting_it():
    response = upload(client(), BAD_ELEMENT)
    assert response.status_code == 200
    html = response.text
    assert element(html, "outcome").strip().startswith("Not accepted: rejected")
    report = element(html, "report")
    assert "(PO102)" in report and "found &#39;3&lt;b&gt;6&#39; [code 6: invalid character or value]" in report
    assert "<b>" not in html  # the partner's bytes never become markup
    ack = element(html, "ack-1").splitlines()
    assert ack[2:9] == ["ST*997*0001~", "AK1*PO*7001~", "AK2*850*0001~", "AK3*PO1*23**8~", "AK4*2*330*6~",
                        "AK5*R*5~", "AK9*R*1*1*0~"]


def test_a_5010_file_gets_its_999_with_ik3_ik4():
    response = upload(client(), (X12_DATA / "greenleaf_850_partial.x12").read_bytes(), partner="greenleaf")
    assert response.status_code == 200
    assert element(response.text, "outcome").strip().startswith("Not accepted: partially accepted")
    assert unescaped(element(response.text, "ack-1")) == (X12_DATA / "greenleaf_850_partial.999.txt").read_text()


def test_a_file_that_is_not_x12_gets_a_clear_report_and_no_ack():
    response = upload(client(), (X12_DATA / "not_x12.txt").read_bytes(), name="mail.txt")
    assert response.status_code == 200
    html = response.text
    assert element(html, "outcome").strip().startswith("Not accepted: not x12 (")
    assert "We would send no acknowledgment for this file: it is not an X12 interchange." in html
    assert 'id="ack-1"' not in html


def test_a_file_from_another_partners_sender_is_read_as_that_partners_inbox_would_read_it():
    # harbor's page, acme's ISA sender: the intake scopes an inbox to its owner, so this is an unknown sender.
    response = upload(client(), (X12_DATA / "acme_850_4010.x12").read_bytes())
    assert response.status_code == 200
    html = unescaped(response.text)
    assert "no partner profile" in element(html, "report")
    assert "TA1*" in element(html, "ack-1") and "(acme)" not in html


def test_the_file_name_is_only_shown_by_its_last_part_and_escaped():
    response = upload(client(), GOOD_850, name="..\\..//etc/<i onclick=x>orders.x12")
    assert "<h2>Result for &lt;i onclick=x&gt;orders.x12</h2>" in response.text
    assert "<i " not in response.text


def test_a_very_long_report_is_cut_and_says_so(monkeypatch):
    monkeypatch.setattr("hub.webhooks._selfservice.REPORT_MAX_CHARS", 200)
    html = upload(client(), BAD_ELEMENT).text
    assert len(unescaped(element(html, "report"))) == 200
    assert re.search(r"The report was cut after 200 characters\s+\(of \d+\)", html)
    assert "AK4*2*330*6~" in element(html, "ack-1")  # the acks are shown whole


# -- limits --------------------------------------------------------------------------------------------------------

def test_a_file_over_the_limit_is_refused_with_413_and_a_clear_message():
    c = client({**ON, "HUB_SELFSERVICE_MAX_BYTES": "2048"})
    response = upload(c, GOOD_850[:1024] + b" " * 1500)  # under the form's room, over the file limit
    assert response.status_code == 413
    assert "The file is too large: this page takes files up to 2 KiB." in response.text
    assert 'id="result"' not in response.text
    assert upload(c, GOOD_850[:1900]).status_code == 200  # under it: read and checked (a cut 850)
    assert upload(c, b"x" * (2048 + FORM_ROOM)).status_code == 413  # refused by its declared length


def test_a_body_without_a_length_stops_being_read_past_the_limit():
    """Chunked upload, no Content-Length: the app stops asking for body chunks once past the limit."""
    app = Starlette(routes=selfservice_routes(PARTNERS, env={**ON, "HUB_SELFSERVICE_MAX_BYTES": "1024"}))
    chunk, chunks = b"x" * 4096, 1000  # 4 MB offered, the limit is 1 KiB + the form's room
    asked = 0
    sent: list[Message] = []
    cookie = "a" * 43

    async def receive() -> Message:
        nonlocal asked
        asked += 1
        if asked == 1:
            return {"type": "http.request", "body": b"--B\r\nContent-Disposition: form-data; name=\"file\"; "
                                                    b"filename=\"big.x12\"\r\n\r\n", "more_body": True}
        return {"type": "http.request", "body": chunk, "more_body": asked < chunks}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": "/selfservice/harbor", "raw_path": b"/selfservice/harbor",
             "query_string": b"", "root_path": "", "scheme": "http", "server": ("127.0.0.1", 80),
             "headers": [(b"content-type", b"multipart/form-data; boundary=B"),
                         (b"cookie", f"{CSRF_COOKIE}={cookie}".encode())]}
    # In a thread of its own: a session's Chromium (sync Playwright) keeps an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, app, scope, receive, send).result()
    assert sent[0]["status"] == 413
    assert asked <= 2 + (1024 + FORM_ROOM) // len(chunk) + 1, f"{asked} chunks read"


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_a_bad_size_setting_is_a_configuration_error(value):
    from canonical.errors import ConfigurationError
    with pytest.raises(ConfigurationError, match="HUB_SELFSERVICE_MAX_BYTES"):
        selfservice_routes(PARTNERS, env={**ON, "HUB_SELFSERVICE_MAX_BYTES": value})


# -- access: CSRF and the partner's token --------------------------------------------------------------------------

def test_a_post_without_the_pages_cookie_or_with_another_csrf_value_is_refused():
    c = client()
    open_page(c)
    forged = c.post("/selfservice/harbor", data={"csrf": "b" * 43}, files={"file": ("po.x12", GOOD_850)})
    assert forged.status_code == 403 and "expired" in forged.text and 'id="result"' not in forged.text
    fresh = client()  # a browser that never opened the page (a cross-site form) has no cookie
    assert fresh.post("/selfservice/harbor", data={"csrf": "b" * 43},
                      files={"file": ("po.x12", GOOD_850)}).status_code == 403


def test_a_request_the_browser_marks_cross_site_is_refused_even_with_the_cookie():
    c = client()
    csrf = open_page(c)
    response = c.post("/selfservice/harbor", data={"csrf": csrf}, files={"file": ("po.x12", GOOD_850)},
                      headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


def test_the_csrf_cookie_is_http_only_same_site_strict_and_scoped():
    cookie = client().get("/selfservice/harbor").headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/selfservice/" in cookie


def test_with_a_token_set_the_partner_must_give_it():
    env = {**ON, token_env("harbor"): "s3cret-harbor"}
    assert token_env("harbor") == "HUB_SELFSERVICE_TOKEN_HARBOR"
    c = client(env)
    assert 'name="token"' in c.get("/selfservice/harbor").text
    assert 'name="token"' not in c.get("/selfservice/bluebird").text  # another partner's page has no token
    assert upload(c, GOOD_850).status_code == 403
    wrong = upload(c, GOOD_850, token="s3cret-acme")
    assert wrong.status_code == 403 and "access token is missing or wrong" in wrong.text
    assert upload(c, GOOD_850, token="s3cret-harbor").status_code == 200


def test_pages_carry_headers_that_forbid_scripts_framing_sniffing_and_caching():
    headers = client().get("/selfservice/harbor").headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_posting_something_else_than_the_form_is_a_clear_400():
    c = client()
    csrf = open_page(c)
    response = c.post("/selfservice/harbor", content=GOOD_850, headers={"Content-Type": "application/edi-x12"})
    assert response.status_code == 400 and "Send the file with the form" in response.text
    no_file = c.post("/selfservice/harbor", data={"csrf": csrf}, files={"other": ("x", b"")})
    assert no_file.status_code == 400 and "Choose a file" in no_file.text
    two = c.post("/selfservice/harbor", data={"csrf": csrf}, files=[("file", ("a.x12", GOOD_850)),
                                                                     ("file", ("b.x12", GOOD_850))])
    assert two.status_code == 400 and 'id="result"' not in two.text
    assert "The upload could not be read: Too many files. Maximum number of files is 1." in two.text


# -- no PII in logs, nothing stored -----------------------------------------------------------------------------

def test_logs_name_the_partner_size_and_outcome_never_the_file(caplog):
    caplog.set_level(logging.DEBUG)
    upload(client(), BAD_ELEMENT, name="dana-buyer-orders.x12")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"self-service check for harbor: {len(BAD_ELEMENT)} bytes, rejected, 1 ack(s)" in logged
    for secret in ("dana", "HARBORPINE", "HP-240212-01", "3<b>6", "Dana Buyer"):
        assert secret not in logged


def test_nothing_is_written_to_the_store(sqlite_store):
    from hub import store as st
    app = create_webhook_app(lambda: sqlite_store, PARTNERS, env=ON)
    with TestClient(app) as c:
        assert upload(c, GOOD_850).status_code == 200
    with sqlite_store.transaction() as conn:
        for table in (st.tables.raw_documents, st.tables.receipts, st.tables.control_numbers, st.tables.orders):
            assert conn.execute(table.select()).first() is None, table.name
