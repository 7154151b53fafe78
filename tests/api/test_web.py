"""The investigator page in a real browser: Debian's Chromium driven by Playwright
against the app served by uvicorn over a small loaded sample city.

Chromium comes from ``scripts/ensure-chromium.sh`` (``make test`` runs it); it
is never downloaded by Playwright. Without it these tests fail, they do not skip:
a page nobody has opened in a browser is not tested.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import uvicorn
from playwright.sync_api import expect, sync_playwright

from api.app import create_app
from api.keys import KeyStore
from api.server import JSONErrorH11Protocol
from graph.settings import Settings
from graph.store.embedded import EmbeddedStore
from loaders import sample_city
from loaders.pipeline import FileLoader
from tests.builders import make_uscc

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'"
)
# Both payloads would set window.__xss if the page ever parsed a name as HTML
# (the <img> one even where the CSP is absent, which is why the test also
# looks for the elements themselves).
HOSTILE_NAME = (
    '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">商丘市恶意名称有限公司'
)
HOSTILE_USCC = make_uscc("411403", "MC900001")
TIMEOUT_MS = 15_000


@dataclass
class Site:
    url: str
    investigator: str
    analyst: str
    api: httpx.Client  # investigator's, for choosing test subjects


def _write_hostile_feed(path: Path) -> None:
    quoted = '"' + HOSTILE_NAME.replace('"', '""') + '"'
    path.write_text(
        "主体名称,统一社会信用代码,红名单类型,认定机关,认定日期\n"
        f"{quoted},{HOSTILE_USCC},A级纳税人,商丘市税务局,2023-05-01\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("web")
    manifest = sample_city.generate(tmp / "city", enterprises=60, seed=5)
    hostile = tmp / "red_list_hostile.csv"
    _write_hostile_feed(hostile)
    settings = Settings(data_dir=tmp / "data")
    store = EmbeddedStore(tmp / "store")
    loader = FileLoader(store, settings)
    for f in [*manifest.files, hostile]:
        loader.load(f)
    keys = KeyStore(settings.data_dir)
    investigator = keys.create("investigator")[1]
    analyst = keys.create("analyst")[1]

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, store=store),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        http=JSONErrorH11Protocol,  # as `creditlink serve` runs it
    )
    server = uvicorn.Server(config)
    # the socket is bound before the thread starts, so no other process can take the port
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {investigator}"}, timeout=30
    )
    try:
        yield Site(url, investigator, analyst, client)
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `bash scripts/ensure-chromium.sh` (make test does)",
            pytrace=False,
        )
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@contextmanager
def open_page(browser: Any, site: Site, **context_args: Any) -> Iterator[Any]:
    """A fresh context on the page, failing the test on any dialog, page error or
    CSP violation. ``external`` collects requests for other hosts (aborted)."""
    args = {"viewport": {"width": 1400, "height": 1000}, "locale": "zh-CN", **context_args}
    context = browser.new_context(**args)
    # Anything the CSP blocks is something that tried to run or load: recorded
    # before the page's own scripts, so that the tests can require none.
    context.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    external: list[str] = []

    def offline(route: Any) -> None:
        # as on a government network without internet: only this server answers
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    context.route("**/*", offline)
    p = context.new_page()
    p.external = external
    p.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    errors: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    p.on("dialog", on_dialog)
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.goto(site.url + "/")
    p.wait_for_selector("body[data-ready='true']")
    try:
        yield p
    finally:
        violations = p.evaluate("window.__cspViolations")
        context.close()
    assert not dialogs, dialogs
    assert not errors, errors
    assert not violations, violations
    assert not external, f"the page fetched from other hosts: {external}"


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    with open_page(browser, site) as p:
        yield p


def tid(name: str) -> str:
    return f"[data-testid='{name}']"


def enter_key(page: Any, key: str) -> None:
    page.fill(tid("api-key-input"), key)
    page.click(tid("api-key-save"))
    assert page.input_value(tid("api-key-input")) == ""  # not left on screen
    assert page.evaluate("sessionStorage.getItem('creditlink.apiKey')") == key
    assert key not in page.url


def search(page: Any, q: str) -> Any:
    page.fill(tid("search-input"), q)
    page.click(tid("search-button"))
    results = page.locator(tid("search-result"))
    results.first.wait_for()
    return results


def open_card(page: Any, subject_id: str) -> Any:
    result = page.locator(f"{tid('search-result')}[data-id='{subject_id}']")
    result.locator(tid("search-result-name")).click()
    card = page.locator(f"{tid('subject-card')}[data-id='{subject_id}']")
    card.wait_for()
    return card


def a_company(site: Site) -> dict[str, Any]:
    body = site.api.get("/subjects/search", params={"q": "有限公司", "limit": 1}).json()
    hit: dict[str, Any] = body["results"][0]
    return hit


def drawn_pairs(edges: list[dict[str, Any]]) -> set[frozenset[str]]:
    """The API's relations as the page draws them: one edge per pair of subjects."""
    return {frozenset((e["source"], e["target"])) for e in edges}


def neighbours(site: Site, sid: str, depth: int = 1) -> dict[str, Any]:
    r = site.api.get(f"/subjects/{sid}/neighbors", params={"depth": depth})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


# -- the tests --------------------------------------------------------------------


def test_page_and_assets_are_public_with_a_strict_policy(site: Site) -> None:
    with httpx.Client(base_url=site.url) as anon:
        page = anon.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == CSP
        for asset in ("app.js", "api.js", "dom.js", "graph.js", "labels.js", "app.css"):
            r = anon.get(f"/static/{asset}")
            assert r.status_code == 200, asset
            assert r.headers["content-security-policy"] == CSP
        assert "javascript" in anon.get("/static/app.js").headers["content-type"]
        # every script, style and font the page names is served from here
        html = page.text
        local = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
        assert any("cytoscape" in u for u in local) and any(u.endswith(".woff2") for u in local)
        for url in local:
            assert anon.get(url).status_code == 200, url
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html), "the page loads nothing remote"
        font = anon.get("/static/vendor/noto-sans-sc/NotoSansSC-Regular.subset.woff2")
        assert font.content[:4] == b"wOF2"
        # the data is not public
        assert anon.get("/subjects/search", params={"q": "公司"}).status_code == 401


def test_a_wrong_key_shows_the_error_banner(page: Any) -> None:
    banner = page.locator(tid("error-banner"))
    page.fill(tid("search-input"), "公司")
    page.click(tid("search-button"))
    banner.wait_for()
    assert "API 密钥" in banner.inner_text()
    enter_key(page, "cl_00000000_forged")
    page.click(tid("search-button"))
    expect(page.locator(tid("error-message"))).to_contain_text("401")


def test_search_and_subject_card_with_records(page: Any, site: Site) -> None:
    company = a_company(site)
    card_api = site.api.get(f"/subjects/{company['id']}").json()
    enter_key(page, site.investigator)
    results = search(page, company["name"])
    first = results.first
    assert first.get_attribute("data-id") == company["id"]
    # the label comes from GET /model (graph/model.yaml), not from a copy in the page
    org_label = site.api.get("/model").json()["subject_types"]["organisation"]["label"]
    assert first.locator(tid("search-result-type")).inner_text() == org_label
    assert first.locator(tid("search-result-score")).inner_text() == "100.0"

    card = open_card(page, company["id"])
    assert card.locator(tid("subject-name")).inner_text() == company["name"]
    uscc = next(k for k in company["keys"] if k.startswith("uscc:")).split(":", 1)[1]
    assert uscc in card.locator(tid("subject-keys")).inner_text()
    # the source records come last, collapsed; the investigator opens them
    records = card.locator(tid("subject-records"))
    assert not records.locator(tid("subject-records-table")).is_visible()
    records.locator("summary").click()
    expect(records.locator(tid("subject-records-table"))).to_be_visible()
    rows = card.locator(tid("subject-record"))
    assert rows.count() == len(card_api["records"]) > 0
    shown = card.locator(tid("record-id")).all_inner_texts()
    assert shown == [r["id"] for r in card_api["records"]]
    assert all(m for m in card.locator(tid("record-match")).all_inner_texts())
    # listings and measures sections come with the card (possibly empty)
    card.locator(tid("subject-listings")).wait_for()
    card.locator(tid("subject-measures")).wait_for()


def test_measures_and_listings_with_rule_basis_and_path(page: Any, site: Site) -> None:
    found = None
    for hit in site.api.get("/subjects/search", params={"q": "公司", "limit": 100}).json()[
        "results"
    ]:
        ms = site.api.get(f"/subjects/{hit['id']}/measures").json()["measures"]
        if any(not m["direct"] and m["path"] for m in ms):
            found = hit, ms
            break
    assert found, "the sample city has no propagated measure"
    hit, ms = found
    enter_key(page, site.investigator)
    search(page, hit["keys"][0].split(":", 1)[1])
    card = open_card(page, hit["id"])
    measures = card.locator(tid("subject-measure"))
    measures.first.wait_for()
    # one chip per measure, one block per listing
    assert measures.count() == len(ms)
    groups = card.locator(tid("measure-group"))
    assert groups.count() == len({m["listing"]["id"] for m in ms})
    rules = card.locator(tid("measure-rule"))
    assert set(rules.evaluate_all("els => els.map(e => e.dataset.rule)")) == {m["rule"] for m in ms}
    # rules, measures and roles show in Chinese (GET /model), never as codes
    vocab = site.api.get("/model").json()
    assert set(rules.all_inner_texts()) == {vocab["rules"][m["rule"]]["label"] for m in ms}
    assert set(measures.evaluate_all("els => els.map(e => e.dataset.measure)")) == {
        m["measure"] for m in ms
    }
    text = card.inner_text()
    for m in ms:
        for code in (m["rule"], m["measure"], m["role"]):
            # record ids (dishonest_debtors:file.csv:3) are provenance, not labels
            assert not code or not re.search(rf"(?<!\w){re.escape(code)}(?!\w)", text), code
    # the path is a chain of names: every hop's subjects by name, with dates
    chain = card.locator(tid("measure-path")).first.inner_text()
    hop = next(m for m in ms if m["path"])["path"][0]
    assert hop["from_name"] and hop["to_name"]
    assert hop["from_name"] in chain and hop["to_name"] in chain
    assert re.search(r"\d{4}-\d{2}-\d{2}|\?", chain)


def test_graph_renders_filters_and_expands(page: Any, site: Site, tmp_path: Path) -> None:
    # a company one of whose neighbours has neighbours of its own beyond the company's
    chosen = None
    for hit in site.api.get("/subjects/search", params={"q": "公司", "limit": 60}).json()[
        "results"
    ]:
        hood = neighbours(site, hit["id"])
        near = {n["id"] for n in hood["nodes"]}
        for n in hood["nodes"]:
            if (
                n["id"] != hit["id"]
                and {m["id"] for m in neighbours(site, n["id"])["nodes"]} - near
            ):
                chosen = hit, hood, n
                break
        if chosen:
            break
    assert chosen, "no expandable neighbour in the sample city"
    hit, hood, other = chosen

    enter_key(page, site.investigator)
    search(page, hit["name"])
    page.select_option(tid("graph-depth"), "1")
    page.locator(f"{tid('search-result')}[data-id='{hit['id']}']").locator(
        tid("search-result-graph")
    ).click()
    nodes = page.locator(tid("graph-node"))
    edges = page.locator(tid("graph-edge"))
    expect(nodes).to_have_count(len(hood["nodes"]))
    # parallel relations (registry and officers both name a legal representative)
    # are one drawn edge with the labels combined
    expect(edges).to_have_count(len(drawn_pairs(hood["edges"])))
    assert edges.count() > 0
    drawn = edges.evaluate_all("els => els.map(e => e.dataset.id.split(' '))")
    assert sorted(i for ids in drawn for i in ids) == sorted(e["id"] for e in hood["edges"])
    canvas = page.locator(tid("graph-canvas"))
    assert canvas.locator("canvas").count() > 0  # Cytoscape.js draws it
    labels = set(page.locator(f"{tid('graph-edge')} .edge-label").all_text_contents())
    assert labels and all(label for label in labels)

    # click a node: its card opens
    page.locator(f"{tid('graph-node')}[data-id='{other['id']}']").click()
    page.locator(f"{tid('subject-card')}[data-id='{other['id']}']").wait_for()

    # double-click it: its neighbours join the graph
    before = nodes.count()
    page.locator(f"{tid('graph-node')}[data-id='{other['id']}']").dblclick()
    expect(page.locator(tid("graph-summary"))).to_contain_text("新增")
    assert nodes.count() > before, page.locator(tid("graph-summary")).inner_text()
    assert edges.count() > len(drawn_pairs(hood["edges"]))
    page.screenshot(path=str(tmp_path / "investigator-page.png"), full_page=True)

    # collapse: what the expansion added goes again
    page.locator(f"{tid('graph-node')}[data-id='{other['id']}']").click()
    expect(page.locator(tid("graph-collapse"))).to_be_enabled()
    page.click(tid("graph-collapse"))
    expect(nodes).to_have_count(before)

    # filter: only one relation type, redrawn from the centre
    kinds = {e["relation"] for e in hood["edges"]}
    keep = sorted(kinds)[0]
    for box in page.locator(tid("graph-relation")).all():
        if box.get_attribute("value") != keep:
            box.uncheck()
    page.click(tid("graph-reload"))
    expected = neighbours(site, hit["id"])
    expected_edges = [e for e in expected["edges"] if e["relation"] == keep]
    expect(page.locator(tid("graph-edge"))).to_have_count(len(drawn_pairs(expected_edges)))
    assert set(
        page.locator(tid("graph-edge")).evaluate_all("els => els.map(e => e.dataset.relation)")
    ) == {keep}

    # as_of: the relations that held on that day (undated ones hold on every day)
    page.fill(tid("as-of-input"), "1900-01-01")
    page.click(tid("graph-reload"))
    old = site.api.get(
        f"/subjects/{hit['id']}/neighbors", params={"as_of": "1900-01-01", "relation": keep}
    ).json()
    assert len(old["edges"]) < len(expected_edges)
    expect(page.locator(tid("graph-edge"))).to_have_count(len(drawn_pairs(old["edges"])))
    expect(page.locator(tid("graph-node"))).to_have_count(len(old["nodes"]))


def test_path_finder_lists_hops_with_relation_dates_and_records(page: Any, site: Site) -> None:
    pair = None
    for company in site.api.get("/subjects/search", params={"q": "公司", "limit": 60}).json()[
        "results"
    ]:
        hood = neighbours(site, company["id"], depth=2)
        far = next((n for n in hood["nodes"] if n["distance"] == 2), None)
        if far:
            pair = company, far
            break
    assert pair, "no two subjects two hops apart in the sample city"
    company, far = pair
    api_paths = site.api.get("/paths", params={"from": company["id"], "to": far["id"]}).json()
    enter_key(page, site.investigator)
    page.fill(tid("path-from"), next(k for k in company["keys"]).split(":", 1)[1])
    page.fill(tid("path-to"), far["id"])
    page.click(tid("path-button"))
    results = page.locator(tid("path-result"))
    results.first.wait_for()
    assert results.count() == len(api_paths["paths"])
    hops = results.first.locator(tid("path-hop"))
    assert hops.count() == 2
    first_hop = api_paths["paths"][0]["hops"][0]
    text = hops.first.inner_text()
    assert first_hop["records"][0] in text
    assert re.search(
        r"\d{4}-\d{2}-\d{2}|\?", hops.first.locator(tid("path-hop-dates")).inner_text()
    )
    # shown in the graph, path highlighted
    results.first.locator(tid("path-show-graph")).click()
    expect(page.locator(f"{tid('graph-node')}.hl")).to_have_count(3)


def test_a_hostile_name_is_rendered_as_text(page: Any, site: Site) -> None:
    enter_key(page, site.investigator)
    results = search(page, HOSTILE_USCC)
    name = results.first.locator(tid("search-result-name"))
    assert name.inner_text() == HOSTILE_NAME
    sid = results.first.get_attribute("data-id")
    card = open_card(page, sid)
    assert card.locator(tid("subject-name")).inner_text() == HOSTILE_NAME
    page.locator(f"{tid('search-result')}[data-id='{sid}']").locator(
        tid("search-result-graph")
    ).click()
    page.locator(f"{tid('graph-node')}[data-id='{sid}']").wait_for()
    # the search by name goes through the same rendering
    search(page, "恶意名称")
    assert HOSTILE_NAME in page.locator(tid("search-results")).inner_text()
    injected = page.evaluate(
        "document.querySelectorAll('main script, main img, main [onerror]').length"
    )
    assert injected == 0
    assert page.evaluate("window.__xss") is None


def test_an_analyst_sees_masked_id_numbers(page: Any, site: Site) -> None:
    company = a_company(site)
    hood = neighbours(site, company["id"])
    person = next(
        n
        for n in hood["nodes"]
        if n["type"] == "person" and any(k.startswith("id_number:") for k in n["keys"])
    )
    full = next(k for k in person["keys"] if k.startswith("id_number:")).split(":", 1)[1]
    assert "*" not in full  # the investigator's API answer is unmasked

    enter_key(page, site.analyst)
    # A full number is no look-up key for a role that sees masked numbers (it
    # would tell which of a masked number's candidates exists): refused.
    page.fill(tid("search-input"), full)
    page.click(tid("search-button"))
    expect(page.locator(tid("error-message"))).to_contain_text("403")
    assert full not in page.content()
    # The subject id finds the person, whose card shows the masked number.
    results = search(page, person["id"])
    assert results.first.get_attribute("data-id") == person["id"]
    card = open_card(page, person["id"])
    keys = card.locator(tid("subject-keys")).inner_text()
    assert re.search(rf"{full[:6]}\*+{full[-4:]}", keys), keys
    page.locator(f"{tid('search-result')}[data-id='{person['id']}']").locator(
        tid("search-result-graph")
    ).click()
    page.locator(tid("graph-node")).first.wait_for()
    assert full not in page.content()

    # the same page with the investigator's key shows the full number
    enter_key(page, site.investigator)
    page.click(tid("search-button"))
    page.locator(tid("search-result")).first.wait_for()
    expect(page.locator(tid("search-results"))).to_contain_text(full)


def test_review_queue_confirm_and_reject(page: Any, site: Site) -> None:
    queue = site.api.get("/review", params={"limit": 50}).json()
    assert queue["items"], "the sample city leaves no pair for review"
    enter_key(page, site.investigator)
    page.locator(tid("review-panel")).wait_for()
    page.click(tid("review-load"))
    items = page.locator(tid("review-item"))
    items.first.wait_for()
    count = items.count()
    assert count == len(queue["items"])
    assert items.first.locator(tid("review-score")).inner_text() == str(queue["items"][0]["score"])
    # the evidence is named for a reviewer, the code kept for whoever hovers
    feature = items.first.locator(tid("review-feature")).first
    assert feature.inner_text().startswith("名称相似度"), feature.inner_text()
    assert feature.get_attribute("title").startswith("name=")
    items.first.locator(tid("review-reject")).click()
    page.locator(tid("notice")).wait_for()
    expect(items).to_have_count(count - 1)
    if count > 1:
        items.first.locator(tid("review-confirm")).click()
        expect(items).to_have_count(count - 2)
    after = site.api.get("/review", params={"limit": 50}).json()
    assert after["total"] <= queue["total"] - min(count, 2)


# -- the workbench: font, risk, zoom, phone, offline docs, export -------------------


def find_subject(site: Site, level: str) -> dict[str, Any]:
    """A company whose risk (GET /subjects/{key}/measures) is ``level``."""
    for hit in site.api.get("/subjects/search", params={"q": "公司", "limit": 100}).json()[
        "results"
    ]:
        if site.api.get(f"/subjects/{hit['id']}/measures").json()["risk"]["level"] == level:
            return dict(hit)
    raise AssertionError(f"the sample city has no {level} company")


def draw(page: Any, hit: dict[str, Any], depth: str = "1") -> Any:
    search(page, hit["name"])
    page.select_option(tid("graph-depth"), depth)
    page.locator(f"{tid('search-result')}[data-id='{hit['id']}']").locator(
        tid("search-result-graph")
    ).click()
    node = page.locator(f"{tid('graph-node')}[data-id='{hit['id']}']")
    node.wait_for()
    return node


def test_chinese_renders_in_the_bundled_font(page: Any) -> None:
    """Debian's Chromium here has no CJK font: without the bundled one every
    character would be the same empty box. Two different characters drawn in the
    page's font must differ, and the font must be the bundled face, loaded."""
    found = page.evaluate(
        """async () => {
        const family = '"CL Noto Sans SC"';
        const font = `32px ${family}`;
        await document.fonts.load(font, '信用主体');
        await document.fonts.ready;
        const faces = [...document.fonts]
          .filter((f) => f.family.replace(/"/g, '') === 'CL Noto Sans SC');
        const draw = (ch) => {
          const c = document.createElement('canvas');
          c.width = 40; c.height = 40;
          const g = c.getContext('2d');
          g.font = font;
          g.fillText(ch, 2, 32);
          return Array.from(g.getImageData(0, 0, 40, 40).data).join(',');
        };
        const g = document.createElement('canvas').getContext('2d');
        g.font = font;
        return {
          status: faces.map((f) => f.status),
          covered: document.fonts.check(font, '信用主体关联查询'),
          differ: draw('信') !== draw('用') && draw('用') !== draw('主'),
          blank: draw('信') === draw(' '),
          width: g.measureText('信用主体').width,
          h1: getComputedStyle(document.querySelector('h1')).fontFamily,
        };
    }"""
    )
    assert found["status"] == ["loaded"], found
    assert found["covered"] and found["differ"] and not found["blank"], found
    assert abs(found["width"] - 4 * 32) < 2, found  # four full-width glyphs, 1 em each
    assert found["h1"].startswith('"CL Noto Sans SC"'), found


def test_graph_nodes_carry_their_risk(page: Any, site: Site) -> None:
    listed = find_subject(site, "listed")
    hood = neighbours(site, listed["id"], depth=2)
    assert hood["center"]["risk"] == "listed"
    enter_key(page, site.investigator)
    node = draw(page, listed, "2")
    expect(node).to_have_attribute("data-risk", "listed")
    shown = page.locator(tid("graph-node")).evaluate_all(
        "els => Object.fromEntries(els.map(e => [e.dataset.id, e.dataset.risk]))"
    )
    assert shown == {n["id"]: n["risk"] for n in hood["nodes"]}
    # and it is seen: the centre of the listed node is drawn red
    box = node.bounding_box()
    shot = page.screenshot(
        clip={
            "x": box["x"] + box["width"] / 2 - 2,
            "y": box["y"] + box["height"] / 2 - 2,
            "width": 4,
            "height": 4,
        }
    )
    from io import BytesIO

    from PIL import Image

    r, g, b = Image.open(BytesIO(shot)).convert("RGB").getpixel((2, 2))
    assert r > 150 and g < 90 and b < 90, (r, g, b)
    # the legend explains node types, the four risk levels and the relation styles
    legend = page.locator(tid("graph-legend"))
    assert legend.locator(tid("legend-risk")).evaluate_all(
        "els => els.map(e => e.dataset.value)"
    ) == ["listed", "implicated", "review", "clear"]
    model = site.api.get("/model").json()
    relations = legend.locator(tid("legend-relation")).evaluate_all(
        "els => els.map(e => e.dataset.value)"
    )
    assert set(relations) == set(model["relation_types"])
    # the card says so first
    page.locator(tid("graph-node") + f"[data-id='{listed['id']}']").click()
    card = page.locator(f"{tid('subject-card')}[data-id='{listed['id']}']")
    expect(card.locator(tid("subject-risk"))).to_have_attribute("data-risk", "listed")
    expect(card.locator(tid("subject-summary"))).to_contain_text("项惩戒措施")


def test_zoom_pan_and_fit_change_the_view(page: Any, site: Site) -> None:
    hit = find_subject(site, "listed")
    enter_key(page, site.investigator)
    node = draw(page, hit, "2")
    canvas = page.locator(tid("graph-canvas"))
    zoom0 = float(canvas.get_attribute("data-zoom"))
    before = node.bounding_box()
    box = canvas.bounding_box()
    # the wheel zooms in around the pointer
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -600)
    expect(canvas).not_to_have_attribute("data-zoom", f"{zoom0:.3f}")
    zoom1 = float(canvas.get_attribute("data-zoom"))
    assert zoom1 > zoom0
    page.wait_for_function(
        "([id, w]) => document.querySelector(`[data-testid=graph-node][data-id='${id}']`)"
        ".getBoundingClientRect().width > w",
        arg=[hit["id"], before["width"]],
    )
    # a drag on the background pans: the node moves with it
    pan0 = canvas.get_attribute("data-pan")
    at = node.bounding_box()
    page.mouse.move(box["x"] + 6, box["y"] + 6)
    page.mouse.down()
    page.mouse.move(box["x"] + 86, box["y"] + 46, steps=8)
    page.mouse.up()
    expect(canvas).not_to_have_attribute("data-pan", pan0)
    moved = node.bounding_box()
    assert abs(moved["x"] - at["x"] - 80) < 3 and abs(moved["y"] - at["y"] - 40) < 3
    # the buttons zoom too, and fit brings the whole graph back
    page.click(tid("graph-zoom-out"))
    page.wait_for_function(
        "z => Number(document.querySelector('[data-testid=graph-canvas]').dataset.zoom) < z",
        arg=zoom1,
    )
    # zoomed in, some nodes are out of sight; fit brings every node back inside
    for _ in range(4):
        page.click(tid("graph-zoom-in"))

    def all_inside() -> bool:
        c = canvas.bounding_box()
        return all(
            c["x"] <= b["x"]
            and b["x"] + b["width"] <= c["x"] + c["width"]
            and c["y"] <= b["y"]
            and b["y"] + b["height"] <= c["y"] + c["height"]
            for b in (n.bounding_box() for n in page.locator(tid("graph-node")).all())
        )

    page.wait_for_timeout(200)
    assert not all_inside()
    page.click(tid("graph-fit"))
    page.wait_for_timeout(200)
    assert all_inside()


def test_phone_width_has_no_overflow_and_the_graph_works_by_touch(browser: Any, site: Site) -> None:
    hit = find_subject(site, "listed")
    phone = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
    with open_page(browser, site, **phone) as page:

        def overflow() -> int:
            return int(
                page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
            )

        assert overflow() == 0
        enter_key(page, site.investigator)
        card = open_card(page, search(page, hit["name"]) and hit["id"])
        card.locator(tid("subject-measures")).wait_for()
        card.locator(tid("subject-records")).locator("summary").tap()
        card.locator(tid("subject-records-table")).wait_for()
        assert overflow() == 0
        # wide tables scroll inside their box, the page does not
        node = draw(page, hit, "2")
        assert overflow() == 0
        # a tap on a node opens its card
        other = next(n for n in neighbours(site, hit["id"])["nodes"] if n["id"] != hit["id"])
        page.locator(f"{tid('graph-node')}[data-id='{other['id']}']").tap()
        page.locator(f"{tid('subject-card')}[data-id='{other['id']}']").wait_for()
        # two fingers spreading zoom in
        canvas = page.locator(tid("graph-canvas"))
        canvas.scroll_into_view_if_needed()
        zoom0 = float(canvas.get_attribute("data-zoom"))
        box = canvas.bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        cdp = page.context.new_cdp_session(page)

        def touch(kind: str, spread: float) -> None:
            points = (
                []
                if kind == "touchEnd"
                else [
                    {"x": cx - spread, "y": cy, "id": 1},
                    {"x": cx + spread, "y": cy, "id": 2},
                ]
            )
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        touch("touchStart", 20)
        for step in range(1, 9):
            touch("touchMove", 20 + 12 * step)
        touch("touchEnd", 0)
        page.wait_for_function(
            "z => Number(document.querySelector('[data-testid=graph-canvas]').dataset.zoom) > z",
            arg=zoom0 * 1.3,
        )
        assert node.count() == 1
        # a tap on 查找路径 lands on the button, not on something laid over it
        button = page.locator(tid("path-button"))
        button.scroll_into_view_if_needed()
        b = button.bounding_box()
        assert (
            page.evaluate(
                "([x, y]) => document.elementFromPoint(x, y).dataset.testid",
                [b["x"] + b["width"] / 2, b["y"] + b["height"] / 2],
            )
            == "path-button"
        )
        assert overflow() == 0


def test_docs_work_with_the_network_off(browser: Any, site: Site) -> None:
    with open_page(browser, site) as page:
        page.goto(site.url + "/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("creditlink")
        expect(page.locator(".opblock-summary-path").first).to_be_visible()
        assert page.evaluate("window.__cspViolations") == []
        page.goto(site.url + "/redoc")
        expect(page.locator("h1").first).to_contain_text("creditlink")
        expect(page.locator("[role=menuitem]").first).to_be_visible()
        # ReDoc's own logo points at its CDN: the docs' CSP stops it in the browser
        blocked = page.evaluate("window.__cspViolations")
        assert all("cdn.redoc.ly" in v for v in blocked), blocked
        page.evaluate("window.__cspViolations = []")
        # nothing was asked of another host (open_page fails the test otherwise)
        assert not page.external


def test_export_png_and_json_of_the_current_view(page: Any, site: Site, tmp_path: Path) -> None:
    hit = find_subject(site, "listed")
    enter_key(page, site.investigator)
    draw(page, hit, "2")
    with page.expect_download() as png:
        page.click(tid("graph-export-png"))
    data = Path(png.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    with page.expect_download() as js:
        page.click(tid("graph-export-json"))
    body = json.loads(Path(js.value.path()).read_text(encoding="utf-8"))
    shown = set(page.locator(tid("graph-node")).evaluate_all("els => els.map(e => e.dataset.id)"))
    assert {n["id"] for n in body["nodes"]} == shown
    assert body["centre"] == hit["id"] and body["as_of"]
    assert all({"x", "y"} <= set(n["position"]) for n in body["nodes"])
    assert {e["id"] for e in body["edges"]} == {
        i
        for ids in page.locator(tid("graph-edge")).evaluate_all(
            "els => els.map(e => e.dataset.id.split(' '))"
        )
        for i in ids
    }
