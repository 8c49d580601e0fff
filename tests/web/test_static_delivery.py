"""How the pages travel: compressed, revalidated with a 304 instead of sent again, each page
preloading every module it imports, and a service worker whose version follows the files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gridpoints.resources import resource_dir
from gridpoints.web import assets
from tests.conftest import ApiClient, bearer
from tests.world import World

STATIC = resource_dir("frontend_static")


@pytest.mark.parametrize("path", ["/index.html", "/js/api.js", "/css/app.css", "/sw.js"])
@pytest.mark.parametrize("encoding", ["br", "gzip"])
async def test_pages_scripts_and_styles_go_out_compressed(
    client: ApiClient, path: str, encoding: str
) -> None:
    plain = await client.get(path, headers={"Accept-Encoding": "identity"})
    packed = await client.get(path, headers={"Accept-Encoding": encoding})
    assert plain.status_code == packed.status_code == 200
    assert packed.headers["content-encoding"] == encoding
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert packed.content == plain.content  # the client unpacked it
    assert int(packed.headers["content-length"]) < len(plain.content) * 0.6


async def test_an_api_answer_goes_out_compressed(client: ApiClient, world: World) -> None:
    headers = {**bearer(client, world.leader_a), "Accept-Encoding": "br, gzip"}
    answer = await client.get("/api/v1/me", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-encoding"] == "br"


@pytest.mark.parametrize("path", ["/", "/me.html", "/js/checkin.js", "/css/app.css", "/sw.js"])
async def test_an_unchanged_static_file_is_answered_304_without_a_body(
    client: ApiClient, path: str
) -> None:
    first = await client.get(path, headers={"Accept-Encoding": "br, gzip"})
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-cache"
    tag = first.headers["etag"]
    again = await client.get(path, headers={"Accept-Encoding": "br, gzip", "If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    # A stale tag gets the file.
    stale = await client.get(path, headers={"If-None-Match": 'W/"0-0-0"'})
    assert stale.status_code == 200 and stale.content == first.content


def test_every_page_preloads_every_module_it_imports() -> None:
    pages = assets.pages(STATIC)
    assert {page.name for page in pages} >= set(assets.OFFLINE_PAGES)
    for page in pages:
        assert page.entries, f"{page.name} loads no module"
        missing = set(page.dependencies) - set(page.preloaded)
        assert not missing, f"{page.name} does not preload {sorted(missing)}"
        for path in page.preloaded:
            assert (STATIC / path).is_file(), f"{page.name} preloads a missing {path}"
        assert "js/offline.js" in page.entries, f"{page.name} does not install the worker"


def test_the_module_graph_follows_every_kind_of_static_import(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text(
        'import { x,\n  y } from "./b.js";\nimport "./c.js";\n'
        '// import { z } from "./commented.js";\nexport { w } from "./d.js";\n'
    )
    for name in ("b", "c", "d"):
        (tmp_path / "js" / f"{name}.js").write_text("export const x = 1;\n")
    (tmp_path / "js" / "b.js").write_text('import { q } from "../lib/e.js";\n')
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "e.js").write_text("export const q = 1;\n")
    assert assets.module_graph(tmp_path, ["js/a.js"]) == [
        "js/a.js",
        "js/b.js",
        "js/c.js",
        "js/d.js",
        "lib/e.js",
    ]


def test_the_worker_keeps_the_four_pages_and_everything_they_load() -> None:
    files = assets.offline_files(STATIC)
    for name in assets.OFFLINE_PAGES:
        page = assets.read_page(STATIC, name)
        kept = {name, *page.stylesheets, *page.entries, *page.dependencies, *page.loaded_later}
        assert kept <= set(files)
    assert not any(path.startswith("api/") for path in files)


def test_a_module_fetched_only_when_needed_is_kept_for_offline_use_but_not_preloaded(
    tmp_path: Path,
) -> None:
    (tmp_path / "js").mkdir()
    (tmp_path / "page.html").write_text('<script type="module" src="js/a.js"></script>')
    (tmp_path / "js" / "a.js").write_text(
        'import("./b.js").then((b) => b.go());\n// import("./commented.js")\n'
    )
    (tmp_path / "js" / "b.js").write_text('import { q } from "./c.js";\nexport function go() {}\n')
    (tmp_path / "js" / "c.js").write_text("export const q = 1;\n")

    page = assets.read_page(tmp_path, "page.html")

    assert page.dependencies == ()
    assert page.loaded_later == ("js/b.js", "js/c.js")
    # The real check-in page: its working part is fetched only for a signed-in member.
    assert "js/checkin-page.js" in assets.offline_files(STATIC)


def test_the_worker_version_changes_whenever_any_static_file_does(tmp_path: Path) -> None:
    copy = tmp_path / "static"
    shutil.copytree(STATIC, copy)
    before = assets.service_worker(copy)
    assert assets.service_worker(copy) == before
    css = copy / "css" / "app.css"
    css.write_text(css.read_text() + "\n/* changed */\n")
    after_css = assets.service_worker(copy)
    assert after_css != before
    (copy / "leaderboard.html").write_text("<!doctype html>")  # not kept, still versioned
    assert assets.service_worker(copy) != after_css


async def test_the_served_worker_is_the_one_built_from_the_files(client: ApiClient) -> None:
    served = await client.get("/sw.js")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/javascript")
    assert served.content == assets.service_worker(STATIC)
    assert "self.GRIDPOINTS_OFFLINE" in served.text.splitlines()[0]
