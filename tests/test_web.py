"""The console (``minshi serve``) through Flask's test client: every page and button on a real
project folder (the bundled notice's master, real templates, returns filled as bureaus fill
them, the real ledger), and the security rules: token, CSRF, paths, upload size."""
from __future__ import annotations

import io
import re
import shutil
import threading
from urllib.parse import quote
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from minshi_xls import clock, consolidated, ledger, reconcile
from minshi_xls import columns as C
from minshi_xls.cli import cli
from minshi_xls.master import import_notice, read_master
from minshi_xls.web import Project
from minshi_xls.web.app import create_app
from minshi_xls.web.security import hash_password

from test_collect_support import cells, fill

PERIOD = "2024-06"
TOKEN = "test-token-0123456789"
CLEAN = ("市卫健委", "东海县")
BAD = "市民政局"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A project folder with its master imported (copied for each test)."""
    root = tmp_path_factory.mktemp("project")
    import_notice(None, root / "output" / "master.xlsx")
    return root


@pytest.fixture
def project(base, tmp_path):
    root = tmp_path / "office"
    shutil.copytree(base, root)
    return root


def app_for(root: Path, **kw):
    return create_app(Project.at(root), token=TOKEN, period=PERIOD, testing=True, **kw)


@pytest.fixture
def app(project):
    return app_for(project)


def signed_in(app):
    client = app.test_client()
    r = client.get(f"/?token={TOKEN}")
    assert r.status_code == 302
    return client


@pytest.fixture
def client(app):
    return signed_in(app)


def csrf(client) -> str:
    client.get(f"/p/{PERIOD}/")  # a page with forms puts the token in the session
    with client.session_transaction() as s:
        return s["csrf"]


def post(client, url, data=None, **kw):
    data = dict(data or {})
    data["csrf"] = csrf(client)
    return client.post(url, data=data, **kw)


def finish(app, response):
    """Follow a step's redirect to its job page, wait for the job, return the finished page."""
    assert response.status_code == 302, response.data.decode()
    m = re.search(r"/jobs/(\d+)$", response.headers["Location"])
    assert m, response.headers["Location"]
    job = app.extensions["minshi"]["jobs"].wait(int(m.group(1)))
    assert job.state != "running"
    return job


def text(response) -> str:
    return response.data.decode("utf-8")


def rows_of(html: str) -> dict:
    """unit -> state label of the month page's table."""
    return dict(re.findall(r'data-unit="([^"]+)">\s*<td><a[^>]*>[^<]*</a></td>\s*'
                           r'<td><span class="tag[^"]*">([^<]+)</span>', html))


def make_returns(root: Path, out: Path):
    """Three returns as units send them: two clean, 市民政局's with a number typed as text and
    an empty 进展情况 (errors at known cells)."""
    tdir = root / "templates" / PERIOD
    files, where = [], {}
    for unit in CLEAN:
        files.append(fill(tdir / C.file_name(PERIOD, unit), out / C.file_name(PERIOD, unit)))

    def mistakes(wb):
        ws = wb[C.SHEET_LEAD]
        hdr, ids = cells(ws)
        first = next(iter(ids))
        cell = ws.cell(ids[first], hdr["本月累计完成"])
        cell.value = "约五成"
        where["cell"], where["indicator"] = cell.coordinate, first
    files.append(fill(tdir / C.file_name(PERIOD, BAD), out / f"{BAD}_6月.xlsx", edit=mistakes))
    return files, where


def upload(client, files, names=None):
    data = {"files": [(io.BytesIO(f.read_bytes()), n)
                      for f, n in zip(files, names or [f.name for f in files])]}
    return post(client, f"/p/{PERIOD}/upload", data, content_type="multipart/form-data")


# --- the month, as the clerk plays it --------------------------------------------------------

def test_a_month_generate_upload_states_unit_page_reconcile_download(app, client, project,
                                                                     tmp_path):
    page = text(client.get(f"/p/{PERIOD}/"))
    states = rows_of(page)
    expected = reconcile.expected_units(read_master(project / "output" / "master.xlsx"))
    assert list(states) and set(states) == set(expected)
    assert set(states.values()) == {"未报送"}
    assert not (project / "output" / "minshi.sqlite").exists()  # a page never creates the ledger

    job = finish(app, post(client, f"/p/{PERIOD}/run/templates"))
    assert job.state == "done", job.error
    made = sorted((project / "templates" / PERIOD).glob("*.xlsx"))
    assert len(made) == len(expected) + 1  # + 分发清单
    assert f"已生成 {len(expected)} 份填报表" in job.lines[0]
    assert f"已生成 {len(expected)} 份填报表" in text(client.get(f"/jobs/{job.id}"))

    files, where = make_returns(project, tmp_path / "wechat")
    job = finish(app, upload(client, files))
    assert job.state == "done", job.error
    assert "共 3 个文件、3 个单位" in "\n".join(job.lines)

    page = text(client.get(f"/p/{PERIOD}/"))
    states = rows_of(page)
    assert [states[u] for u in CLEAN] == ["已接收", "已接收"]
    assert states[BAD] == "有错误"
    assert list(states)[0] == BAD and set(list(states)[-2:]) == set(CLEAN)  # errors first
    assert f"未报送 {len(expected) - 3}" in page and "已接收 2" in page
    assert sum(1 for s in states.values() if s == "未报送") == len(expected) - 3
    assert f"已报 3 个" in page
    # received times are shown in the office's zone, to the minute
    con = ledger.connect(project / "output" / "minshi.sqlite")
    got = con.execute("SELECT received_at FROM returns WHERE unit = ?", (BAD,)).fetchone()[0]
    con.close()
    assert clock.show(got) in page

    unit_page = text(client.get(f"/p/{PERIOD}/unit/{BAD}"))
    assert "有错误" in unit_page and "采用此版本" in unit_page
    assert 'class="pin"' not in unit_page  # one version: nothing to choose between
    assert "没有从邮箱收到该单位的报表" in unit_page  # dropped in, not mailed
    assert where["cell"] in unit_page and "约五成" in unit_page and C.SHEET_LEAD in unit_page
    fid = re.search(rf"/p/{PERIOD}/file/(\d+)", unit_page).group(1)
    original = client.get(f"/p/{PERIOD}/file/{fid}")
    assert original.data == files[2].read_bytes()
    assert "市民政局_6月.xlsx" in original.headers["Content-Disposition"].encode(
        "latin-1").decode("utf-8") or "filename*=UTF-8''" in original.headers["Content-Disposition"]
    rid = re.search(rf"/p/{PERIOD}/annotated/(\d+)", unit_page).group(1)
    annotated = client.get(f"/p/{PERIOD}/annotated/{rid}")
    assert annotated.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(annotated.data))
    assert wb[C.SHEET_LEAD][where["cell"]].comment is not None  # the cell is marked

    job = finish(app, post(client, f"/p/{PERIOD}/run/reconcile"))
    assert job.state == "done", job.error
    name = consolidated.workbook_name(PERIOD)
    assert any(name in line for line in job.lines)
    page = text(client.get(f"/p/{PERIOD}/"))
    link = f"/p/{PERIOD}/out/{quote(name)}"
    assert link in page
    got = client.get(link)
    assert got.data == (project / "output" / PERIOD / name).read_bytes()
    assert "master.xlsx" in page
    assert client.get("/master").data == (project / "output" / "master.xlsx").read_bytes()


def test_remind_preview_lists_who_and_why_and_the_button_reminds_exactly_them(app, client, project,
                                                                            tmp_path):
    finish(app, post(client, f"/p/{PERIOD}/run/templates"))
    files, where = make_returns(project, tmp_path / "usb")
    finish(app, upload(client, files))
    page = text(client.get(f"/p/{PERIOD}/remind"))
    listed = re.findall(r'<tr data-unit="([^"]+)">', page)
    assert BAD in listed and not set(CLEAN) & set(listed)
    row = page.split(f'data-unit="{BAD}"')[1].split("</tr>")[0]
    assert "处错误" in row and where["cell"] in row
    silent = next(u for u in listed if u != BAD)
    assert "尚未报送" in page.split(f'data-unit="{silent}"')[1].split("</tr>")[0]
    job = finish(app, post(client, f"/p/{PERIOD}/run/remind"))
    assert job.state == "done", job.error
    # the bundled registry has no addresses: every unit in the preview is one remind names
    assert f"未登记邮箱 {len(listed)}" in "\n".join(job.lines)


def test_figures_page_shows_the_headlines_status_computes(app, client, project, tmp_path):
    finish(app, post(client, f"/p/{PERIOD}/run/templates"))
    finish(app, upload(client, make_returns(project, tmp_path / "qq")[0]))
    rec = reconcile.compute_period(project / "output" / "master.xlsx", PERIOD,
                                   project / "output" / "minshi.sqlite")
    page = text(client.get(f"/p/{PERIOD}/figures"))
    for h in rec.headlines:
        assert f"{h.level}民生实事 {h.tasks} 项（我市承担 {h.local_tasks} 项）" in page
        assert f"{h.completion * 100:.1f}%" in page
    assert 'name="viewport"' in page
    job = finish(app, post(client, f"/p/{PERIOD}/run/summary"))
    assert job.state == "done", job.error
    assert job.lines[0].split("，")[0] in page  # the 通报's first words, from the same code
    saved = [Path(line.split("：", 1)[1]) for line in job.lines
             if line.startswith(("已保存：", "公文格式："))]
    assert [p.suffix for p in saved] == [".txt", ".docx"]
    month = text(client.get(f"/p/{PERIOD}/"))
    for path in saved:  # the 通报, as text and as the Word document, to download
        link = f"/p/{PERIOD}/out/{quote(path.name)}"
        assert link in month
        assert client.get(link).data == path.read_bytes()


def test_a_step_that_cannot_run_says_why_in_chinese(app, client):
    job = finish(app, post(client, f"/p/{PERIOD}/run/reconcile"))
    assert job.state == "failed" and "找不到台账" in job.error
    assert "找不到台账" in text(client.get(f"/jobs/{job.id}"))


def test_one_action_at_a_time(app, client, project):
    jobs = app.extensions["minshi"]["jobs"]
    release = threading.Event()

    def step(progress):
        progress(2, 5, "市卫健委.xlsx")
        release.wait(30)
        return ["ok"]
    held = jobs.start("收取上传的 5 个文件", PERIOD, step)
    try:
        r = post(client, f"/p/{PERIOD}/run/templates")
        assert r.headers["Location"].endswith(f"/jobs/{held.id}")
        page = text(client.get(r.headers["Location"]))
        assert "正在进行" in page and 'http-equiv="refresh"' in page
        assert "（2/5，市卫健委.xlsx）" in page and '<progress max="5" value="2">' in page
        assert "“收取上传的 5 个文件”正在进行" in page  # why the button did nothing
        assert len(jobs.jobs) == 1
        assert not (project / "templates" / PERIOD).exists()
    finally:
        release.set()
        jobs.wait(held.id)
    assert jobs.wait(finish(app, post(client, f"/p/{PERIOD}/run/templates")).id).state == "done"


def test_page_reload_stamp_changes_when_the_cli_writes_the_ledger(app, client, project, tmp_path):
    finish(app, post(client, f"/p/{PERIOD}/run/templates"))
    before = client.get(f"/p/{PERIOD}/stamp").get_json()["stamp"]
    files, _ = make_returns(project, tmp_path / "cli")
    r = CliRunner().invoke(cli, ["collect", str(files[0]), "--period", PERIOD,
                                 "--db", str(project / "output" / "minshi.sqlite"),
                                 "--master", str(project / "output" / "master.xlsx")])
    assert r.exit_code == 0, r.output
    assert client.get(f"/p/{PERIOD}/stamp").get_json()["stamp"] != before
    client.get(f"/p/{PERIOD}/")
    shown = client.get(f"/p/{PERIOD}/stamp").get_json()["stamp"]
    for url in (f"/p/{PERIOD}/", f"/p/{PERIOD}/unit/{CLEAN[0]}", f"/p/{PERIOD}/figures"):
        client.get(url)  # reading never changes it: an open page does not reload forever
    assert client.get(f"/p/{PERIOD}/stamp").get_json()["stamp"] == shown
    assert rows_of(text(client.get(f"/p/{PERIOD}/")))[CLEAN[0]] == "已接收"


# --- security --------------------------------------------------------------------------------

def test_no_token_or_a_wrong_one_is_refused(app):
    anon = app.test_client()
    for url in ("/", f"/p/{PERIOD}/", f"/p/{PERIOD}/figures", "/master", f"/p/{PERIOD}/stamp"):
        r = anon.get(url)
        assert r.status_code == 403, url
        assert "访问令牌" in text(r)
    assert anon.get("/?token=wrong").status_code == 403
    assert anon.get(f"/p/{PERIOD}/").status_code == 403
    r = anon.get(f"/p/{PERIOD}/?token={TOKEN}")
    assert r.status_code == 302 and TOKEN not in r.headers["Location"]  # not left in history
    assert anon.get(f"/p/{PERIOD}/").status_code == 200


def test_pages_cannot_be_framed_or_leak_the_link(client):
    r = client.get(f"/p/{PERIOD}/")
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Referrer-Policy"] == "no-referrer"


def test_forged_form_without_or_with_a_wrong_csrf_token_is_refused(app, client, project):
    r = client.post(f"/p/{PERIOD}/run/templates")
    assert r.status_code == 400 and "安全令牌" in text(r)
    r = client.post(f"/p/{PERIOD}/run/templates", data={"csrf": "forged"})
    assert r.status_code == 400
    r = client.post(f"/p/{PERIOD}/run/templates", headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 400
    assert not app.extensions["minshi"]["jobs"].jobs
    assert not (project / "templates" / PERIOD).exists()


def test_path_traversal_in_a_download_or_upload_name_is_refused(app, client, project, tmp_path):
    finish(app, post(client, f"/p/{PERIOD}/run/templates"))
    files, _ = make_returns(project, tmp_path / "in")
    finish(app, upload(client, files[:1]))
    (project / "secret.txt").write_text("secret", encoding="utf-8")
    for url in (f"/p/{PERIOD}/out/..%2F..%2Fsecret.txt", f"/p/{PERIOD}/out/../../secret.txt",
                f"/p/{PERIOD}/out/%2E%2E%2Fsecret.txt", "/p/..%2F/out/secret.txt",
                f"/p/{PERIOD}/file/999", f"/p/{PERIOD}/annotated/999",
                f"/p/{PERIOD}/unit/..%2F..%2Fsecret.txt"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert b"secret" not in r.data or b"secret.txt" in r.data
    # a ledger row pointing outside its folder is not served either
    con = ledger.connect(project / "output" / "minshi.sqlite")
    con.execute("UPDATE files SET archive_path = '../secret.txt'")
    fid = con.execute("SELECT id FROM files").fetchone()[0]
    con.close()
    assert client.get(f"/p/{PERIOD}/file/{fid}").status_code == 404

    before = sorted(p for p in project.rglob("*"))
    for bad in ("../../evil.xlsx", "..\\evil.xlsx", "/tmp/evil.xlsx", "C:evil.xlsx",
                ".hidden.xlsx"):
        r = upload(client, files[:1], [bad])
        assert r.status_code == 400, bad
        assert "文件名不合法" in text(r)
    assert sorted(p for p in project.rglob("*")) == before
    assert not (tmp_path / "evil.xlsx").exists()


def test_oversized_upload_is_refused_with_a_message(project, tmp_path):
    (project / "minshi.toml").write_text("[console]\nmax_upload_bytes = 20000\n", encoding="utf-8")
    app = create_app(Project.at(project, config_path=project / "minshi.toml"), token=TOKEN,
                     period=PERIOD, testing=True)
    client = signed_in(app)
    big = tmp_path / "big.xlsx"
    big.write_bytes(b"PK" + bytes(30000))
    r = upload(client, [big])
    assert r.status_code == 413
    assert "上传的文件太大" in text(r) and "0.019" in text(r)
    assert not app.extensions["minshi"]["jobs"].jobs
    assert not (project / "output" / "uploads").exists()


def test_office_network_needs_the_password_and_never_redirects_off_site(project):
    (project / "minshi.toml").write_text(
        f'[console]\npassword_hash = "{hash_password("月报2024")}"\n', encoding="utf-8")
    app = create_app(Project.at(project, config_path=project / "minshi.toml"), token=TOKEN,
                     period=PERIOD, testing=True)
    c = app.test_client()
    r = c.get(f"/p/{PERIOD}/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    page = text(c.get("/login"))
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    r = c.post("/login", data={"password": "wrong", "csrf": token})
    assert "密码不正确" in text(r)
    assert c.get(f"/p/{PERIOD}/").status_code == 302
    assert c.post("/login", data={"password": "月报2024"}).status_code == 400  # no CSRF token
    r = c.post("/login?next=//evil.example/", data={"password": "月报2024", "csrf": token})
    assert r.status_code == 302 and "evil" not in r.headers["Location"]
    assert c.get(f"/p/{PERIOD}/").status_code == 200


def test_serve_on_the_network_without_a_password_stops_with_exit_2(project, monkeypatch):
    monkeypatch.chdir(project)
    r = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--no-browser"])
    assert r.exit_code == 2 and "password_hash" in r.output
    import socket
    with socket.socket() as busy:  # another program holds the port
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = CliRunner().invoke(cli, ["serve", "--port", str(port), "--no-browser"])
    assert r.exit_code == 2 and "--port" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["serve", "--hash-password"], input="月报2024\n月报2024\n")
    assert r.exit_code == 0
    line = r.output.strip().splitlines()[-1]
    assert line.startswith('password_hash = "') and "月报2024" not in line
    from werkzeug.security import check_password_hash
    assert check_password_hash(line.split('"')[1], "月报2024")


def test_pin_a_version_and_undo_it_as_minshi_accept_does(app, client, project, tmp_path):
    finish(app, post(client, f"/p/{PERIOD}/run/templates"))
    files, where = make_returns(project, tmp_path / "first")
    r = CliRunner().invoke(cli, ["collect", str(files[2]), "--period", PERIOD,
                                 "--received", "2024-07-03T10:00",
                                 "--db", str(project / "output" / "minshi.sqlite"),
                                 "--master", str(project / "output" / "master.xlsx")])
    assert r.exit_code == 1, r.output  # its error
    fixed = fill(project / "templates" / PERIOD / C.file_name(PERIOD, BAD),
                 tmp_path / "second" / f"{BAD}_6月_改.xlsx")
    assert finish(app, upload(client, [fixed])).state == "done"
    assert rows_of(text(client.get(f"/p/{PERIOD}/")))[BAD] == "已接收"  # the newer one counts

    page = text(client.get(f"/p/{PERIOD}/unit/{BAD}"))
    assert page.count('class="pin"') == 2  # either version may be pinned
    new_id, old_id = re.findall(r'name="return_id" value="(\d+)"', page)  # newest first
    assert "采用此版本" in page.split(f'id="version-{new_id}"')[1].split("</h3>")[0]
    job = finish(app, post(client, f"/p/{PERIOD}/unit/{BAD}/accept",
                           {"return_id": old_id, "note": "单位电话确认以第一版为准"}))
    assert job.state == "done", job.error
    assert job.lines[0].startswith(f"已指定 {BAD} {PERIOD}")
    assert f"/p/{PERIOD}/unit/" in text(client.get(f"/jobs/{job.id}"))  # back to the unit
    assert rows_of(text(client.get(f"/p/{PERIOD}/")))[BAD] == "有错误"  # the pinned one counts
    con = ledger.connect(project / "output" / "minshi.sqlite")
    pin = con.execute("SELECT return_id, note FROM pins WHERE unit = ?", (BAD,)).fetchone()
    con.close()
    assert (pin[0], pin[1]) == (int(old_id), "单位电话确认以第一版为准")
    page = text(client.get(f"/p/{PERIOD}/unit/{BAD}"))
    assert "已指定" in page and 'class="unpin"' in page

    job = finish(app, post(client, f"/p/{PERIOD}/unit/{BAD}/accept", {}))
    assert job.state == "done", job.error
    assert job.lines[0].startswith("已撤销")
    assert rows_of(text(client.get(f"/p/{PERIOD}/")))[BAD] == "已接收"
    r = post(client, f"/p/{PERIOD}/unit/{BAD}/accept", {"return_id": "../1"})
    assert r.status_code == 400


def test_minshi_serve_prints_a_token_link_that_opens_the_console(project):
    """The real command in its own process: the printed link works, the bare address does not."""
    import http.cookiejar
    import os
    import subprocess
    import sys
    import urllib.error
    import urllib.request
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen([sys.executable, "-m", "minshi_xls", "serve", "--port", "0",
                             "--no-browser", "--period", PERIOD], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+/)\?token=(\S+)", line)
        assert url, line + proc.stderr.read() if proc.poll() is not None else line
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url.group(1), timeout=30)
        assert refused.value.code == 403
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = opener.open(url.group(0), timeout=30).read().decode("utf-8")
        assert f"{PERIOD} 报送情况" in page and "市民政局" in page
    finally:
        proc.terminate()
        proc.wait(30)


def test_an_unreadable_master_or_ledger_is_a_chinese_message_not_a_crash(app, client, project):
    (project / "output" / "minshi.sqlite").write_bytes(b"not a database, a copy gone wrong" * 50)
    r = client.get(f"/p/{PERIOD}/")
    assert r.status_code == 500 and "台账" in text(r) and "Traceback" not in text(r)
    (project / "output" / "master.xlsx").write_bytes(b"PK\x03\x04 broken")
    r = client.get(f"/p/{PERIOD}/unit/{BAD}")
    assert r.status_code == 500 and "总表" in text(r)


def test_a_master_edited_while_the_console_runs_is_read_again(app, client, project):
    page = text(client.get(f"/p/{PERIOD}/remind"))
    assert f'data-unit="{BAD}"' in page and "（未登记邮箱）" in page.split(f'data-unit="{BAD}"')[1]
    path = project / "output" / "master.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["单位"]
    head = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[head.index("简称")].value == BAD)
    row[head.index("邮箱")].value = "mzj@lyg.example"
    wb.save(path)
    page = text(client.get(f"/p/{PERIOD}/remind"))
    assert "mzj@lyg.example" in page.split(f'data-unit="{BAD}"')[1].split("</tr>")[0]


def test_a_file_no_unit_can_be_found_for_is_listed_with_why(app, client, project, tmp_path):
    stray = tmp_path / "qq" / "统计表(1).xlsx"
    stray.parent.mkdir()
    wb = openpyxl.Workbook()
    wb.active.append(["项目", "完成"])
    wb.active.append(["道路", 12])
    wb.save(stray)
    job = finish(app, upload(client, [stray]))
    assert job.state == "done", job.error
    page = text(client.get(f"/p/{PERIOD}/"))
    listed = page.split('id="strays"')[1].split("</ul>")[0]
    assert "统计表(1).xlsx" in listed and "：" in listed  # the reason collect gave
    fid = re.search(rf"/p/{PERIOD}/file/(\d+)", listed).group(1)
    assert client.get(f"/p/{PERIOD}/file/{fid}").data == stray.read_bytes()
    assert set(rows_of(page).values()) == {"未报送"}


def test_a_long_chinese_file_name_is_collected_whole(app, client, project, tmp_path):
    finish(app, post(client, f"/p/{PERIOD}/run/templates"))
    files, _ = make_returns(project, tmp_path / "wechat")
    long_name = "连云港市卫生健康委员会关于报送2024年6月民生实事项目推进情况的函及附件" * 3 + ".xlsx"
    job = finish(app, upload(client, files[:1], [long_name]))
    assert job.state == "done", job.error
    assert rows_of(text(client.get(f"/p/{PERIOD}/")))[CLEAN[0]] == "已接收"


def test_the_console_and_the_cli_collect_at_the_same_time(app, client, project, tmp_path):
    finish(app, post(client, f"/p/{PERIOD}/run/templates"))
    files, _ = make_returns(project, tmp_path / "both")
    r = upload(client, files[:2])  # the console's job starts ...
    cli_run = CliRunner().invoke(cli, [  # ... while the clerk's colleague runs collect
        "collect", str(files[2]), "--period", PERIOD,
        "--db", str(project / "output" / "minshi.sqlite"),
        "--master", str(project / "output" / "master.xlsx")])
    assert cli_run.exit_code == 1, cli_run.output  # 市民政局's error
    assert finish(app, r).state == "done"
    states = rows_of(text(client.get(f"/p/{PERIOD}/")))
    assert [states[u] for u in (*CLEAN, BAD)] == ["已接收", "已接收", "有错误"]
    con = ledger.connect(project / "output" / "minshi.sqlite")
    assert con.execute("SELECT COUNT(*) FROM returns WHERE period = ?", (PERIOD,)).fetchone()[0] == 3
    con.close()


def test_the_projects_own_minshi_toml_is_used_whatever_the_working_folder(project, tmp_path,
                                                                         monkeypatch):
    (project / "minshi.toml").write_text('[templates]\ndeadline_day = 9\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the server started elsewhere
    app = app_for(project)
    client = signed_in(app)
    job = finish(app, post(client, f"/p/{PERIOD}/run/templates"))
    assert job.state == "done", job.error
    assert "截止日期 2024-07-09" in job.lines[0]
