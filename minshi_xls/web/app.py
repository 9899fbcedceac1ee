"""The console's pages and buttons. Views only gather what the library computes and hand a
button to the function its command calls; nothing here decides anything about the data."""
from __future__ import annotations

import secrets
import threading
from collections import Counter
from pathlib import Path
from typing import Optional

from flask import (Flask, abort, flash, jsonify, redirect, render_template, request, send_file,
                   url_for)
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import BaseConverter

from minshi_xls import MinshiError, clock, settings
from minshi_xls import issues as issues_mod
from minshi_xls.reconcile import file_name_of
from minshi_xls.web import actions, queries, security
from minshi_xls.web.actions import Project
from minshi_xls.web.jobs import Busy, Jobs


class PeriodConverter(BaseConverter):
    """``2024-06`` in a URL; anything else is not a page (404)."""

    regex = r"\d{4}-\d{2}"

    def to_python(self, value):
        try:
            settings.period_parts(value)
        except MinshiError:
            from werkzeug.routing import ValidationError
            raise ValidationError() from None
        return value


def state_class(state) -> str:
    """The colour of a state's tag: fine, needs fixing, a mail to look at, nothing yet. The
    words are always mail's ``UnitState.label`` (未报送, 已接收, 有错误, 回复无附件, 退信…):
    whatever it names, the console shows."""
    if state.status == "accepted" and not state.errors:
        return "ok"
    if state.status is not None:
        return "bad"
    return "warn" if state.mail else "none"


class MasterCache:
    """The master read once per version of the file: reading it is most of a page's time, and
    the clerk edits it rarely (a new mtime or size is read again)."""

    def __init__(self, path: Path):
        self.path, self.key, self.master = path, None, None
        self.lock = threading.Lock()

    def get(self):
        from minshi_xls.master import load_master
        try:
            st = self.path.stat()
            key = (st.st_mtime_ns, st.st_size)
        except OSError:
            return None
        with self.lock:
            if key != self.key:
                self.master, self.key = load_master(self.path, required=False), key
            return self.master


def create_app(project: Project, token: Optional[str] = None, period: Optional[str] = None,
               testing: bool = False) -> Flask:
    """The console for ``project``; ``token`` is the access token of the printed link."""
    from minshi_xls.web import default_period
    app = Flask(__name__)
    config = project.config()
    console = config.get("console") or {}
    password_hash = console.get("password_hash") or ""
    token = token or secrets.token_urlsafe(24)
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32), TESTING=testing,
        MAX_CONTENT_LENGTH=int(console.get("max_upload_bytes")
                               or settings.DEFAULTS["console"]["max_upload_bytes"]),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="minshi_console")
    app.url_map.converters["period"] = PeriodConverter
    jobs = Jobs()
    app.extensions["minshi"] = {"project": project, "jobs": jobs, "token": token}
    tz = clock.zone(config)
    first_period = period or default_period(config)

    @app.template_filter("show")
    def show_time(value):
        return clock.show(value, tz, default="—")

    app.add_template_filter(file_name_of, "file_name")

    @app.context_processor
    def globals_():
        return {"csrf_token": security.csrf_token, "csrf_field": security.CSRF_FIELD,
                "steps": actions.STEPS, "running": jobs.current,
                "severity_labels": issues_mod.SEVERITY_LABELS}

    @app.before_request
    def guard():
        return security.check_request(token, password_hash)

    @app.after_request
    def harden(response):
        """No framing (a button under someone else's page), scripts and styles from here only,
        no referrer (the first URL carries the token)."""
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'; form-action 'self'")
        return response

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if isinstance(e, RequestEntityTooLarge):
            mb = app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
            message = (f"上传的文件太大：一次最多 {mb:g} MB。请分几次上传，或把大文件压缩后再上传。")
        else:
            message = e.description if e.description and not e.description.startswith(
                ("The ", "You ", "Bad ", "The requested")) else {
                403: "没有访问权限。", 404: "没有这个页面或文件。"}.get(e.code, e.name)
        return render_template("message.html", code=e.code, message=message), e.code

    @app.errorhandler(MinshiError)
    def fatal(e: MinshiError):
        """What the CLI would exit 2 with (an unreadable master, a ledger that is not one)."""
        return render_template("message.html", code=500, message=str(e)), 500

    master_cache = MasterCache(project.master)

    def load(period: str):
        """(master or None, config, reconciliation or None, unit states) for a page."""
        from minshi_xls import mail, reconcile
        cfg = project.config()
        master = master_cache.get()
        if master is None:
            return None, cfg, None, {}
        con = queries.open_ledger(project.db)
        try:
            rec = reconcile.compute(master, period, con, cfg)
            states = mail.unit_states(con, period, [r.unit for r in rec.returns])
        finally:
            con.close()
        return master, cfg, rec, states

    def start(label: str, period: str, fn, back: str = ""):
        try:
            job = jobs.start(label, period, fn, back)
        except Busy as b:
            flash(f"“{b.job.label}”正在进行，请等它完成后再操作。")
            return redirect(url_for("job", job_id=b.job.id))
        return redirect(url_for("job", job_id=job.id))

    # --- pages -------------------------------------------------------------------------------

    @app.get("/")
    def home():
        return redirect(url_for("month", period=request.args.get("period") or first_period))

    @app.route("/login", methods=["GET", "POST"])
    def login():
        return security.login_view(password_hash)

    @app.get("/p/<period:period>/")
    def month(period):
        master, cfg, rec, states = load(period)
        rows = []
        if rec is not None:
            # Who needs the clerk first: returns with errors, then the silent, then the rest.
            for ur in sorted(rec.expected, key=lambda u: (not states[u.unit].needs_reminder,
                                                         not u.returned)):
                st = states[ur.unit]
                rows.append((ur, st.label, state_class(st)))
        counts = Counter((label, css) for _, label, css in rows)
        con = queries.open_ledger(project.db)
        try:
            strays = queries.unidentified(con, period)
        finally:
            con.close()
        from minshi_xls.reconcile import status_table
        return render_template(
            "month.html", period=period, rows=rows, rec=rec,
            headline=status_table(rec)[-1] if rec else "",
            counts=counts, strays=strays, outputs=outputs(period), has_master=master is not None,
            master_path=project.master,
            master_name=project.master.name if project.master.is_file() else None,
            stamp=queries.change_stamp(project.db),
            recent=[j for j in reversed(list(jobs.jobs.values())) if j.period == period][:5])

    @app.get("/p/<period:period>/stamp")
    def stamp(period):
        return jsonify(stamp=queries.change_stamp(project.db),
                       running=jobs.current.id if jobs.current else None)

    @app.get("/p/<period:period>/unit/<unit>")
    def unit(period, unit):
        master, cfg, rec, states = load(period)
        if rec is None or unit not in {r.unit for r in rec.returns}:
            abort(404, f"{period} 没有单位“{unit}”。")
        ur = next(r for r in rec.returns if r.unit == unit)
        con = queries.open_ledger(project.db)
        try:
            versions = queries.versions(con, period, unit)
            mails = queries.mails(con, period, unit)
            attachments = queries.attachments(con, period, unit)
        finally:
            con.close()
        from minshi_xls.collect import STATUS_LABELS
        return render_template("unit.html", period=period, unit=unit, ur=ur,
                               state=states[unit], label=states[unit].label,
                               css=state_class(states[unit]),
                               versions=versions, mails=mails, attachments=attachments,
                               status_labels=STATUS_LABELS,
                               annotated={v.return_id: annotated_copy(period, v.return_id)
                                          is not None for v in versions})

    @app.get("/p/<period:period>/remind")
    def remind_preview(period):
        master, cfg, rec, states = load(period)
        if rec is None:
            abort(404, "还没有总表。")
        who = [(states[r.unit], states[r.unit].label, state_class(states[r.unit]))
               for r in rec.expected if states[r.unit].needs_reminder]
        addresses = {u.short: ", ".join(u.addresses) for u in master.registry.units}
        return render_template("remind.html", period=period, who=who, addresses=addresses)

    @app.get("/p/<period:period>/figures")
    def figures(period):
        from minshi_xls import summary
        master, cfg, rec, states = load(period)
        if rec is None:
            abort(404, "还没有总表。")
        return render_template("figures.html", period=period, rec=rec,
                               paragraph=summary.paragraph(rec), colors=settings.STATUS_COLORS,
                               order=settings.STATUSES + (settings.NOT_REPORTED,))

    @app.get("/jobs/<int:job_id>")
    def job(job_id):
        j = jobs.jobs.get(job_id) or abort(404)
        return render_template("job.html", job=j)

    # --- actions -----------------------------------------------------------------------------

    @app.post("/p/<period:period>/run/<step>")
    def run_step(period, step):
        if step not in actions.STEPS:
            abort(404)
        label, _, fn = actions.STEPS[step]
        return start(label, period, lambda progress: fn(project, period, progress))

    @app.post("/p/<period:period>/upload")
    def upload(period):
        files = [f for f in request.files.getlist("files") if f.filename]
        if not files:
            flash("请选择要上传的报表文件。")
            return redirect(url_for("month", period=period))
        names = [security.safe_upload_name(f.filename) for f in files]
        bad = [f.filename for f, n in zip(files, names) if n is None]
        if bad:
            abort(400, f"文件名不合法：{'、'.join(bad)}（不能含路径）。")
        stamp_ = clock.local(clock.now(), tz).strftime("%Y%m%d-%H%M%S")
        folder = project.db.parent / "uploads" / period / f"{stamp_}-{secrets.token_hex(3)}"
        folder.mkdir(parents=True, exist_ok=True)
        saved = []
        from minshi_xls.collect import fit_name
        for f, name in zip(files, names):
            dest = folder / fit_name(name)  # a long Chinese name still fits the disk
            n = 1
            while dest in saved:  # the same name dropped twice: keep both
                n += 1
                dest = folder / fit_name(f"{Path(name).stem}({n}){Path(name).suffix}")
            f.save(dest)
            saved.append(dest)
        return start(f"收取上传的 {len(saved)} 个文件", period,
                     lambda progress: actions.collect(project, period, saved, progress))

    @app.post("/p/<period:period>/unit/<unit>/accept")
    def accept(period, unit):
        """The unit page's 以此版本为准 / 撤销指定 buttons."""
        rid = request.form.get("return_id", "")
        if rid and not rid.isdigit():
            abort(400, "版本编号不正确。")
        note = (request.form.get("note") or "").strip() or None
        label = f"指定{unit}的有效版本" if rid else f"撤销对{unit}有效版本的指定"
        return start(label, period, lambda progress: actions.accept(
            project, period, unit, int(rid) if rid else None, note, progress),
            url_for("unit", period=period, unit=unit))

    # --- downloads: only files the console itself lists; a request never names a path -------

    def output_files(period) -> dict:
        """name -> path of the files in ``output/<period>/``: what the month page offers."""
        folder = project.out_dir(period)
        if not folder.is_dir():
            return {}
        return {p.name: p for p in sorted(folder.iterdir()) if p.is_file()}

    def outputs(period):
        return list(output_files(period))

    def annotated_copy(period, return_id) -> Optional[Path]:
        from minshi_xls.collect import annotated_dir, annotated_path
        con = queries.open_ledger(project.db)
        try:
            r = queries.return_row(con, period, return_id)
        finally:
            con.close()
        if r is None:
            return None
        from minshi_xls.reconcile import file_name_of
        p = annotated_path(annotated_dir(project.db, period), r["unit"],
                           file_name_of(r["source_path"]))
        return p if p.is_file() else None

    @app.get("/p/<period:period>/out/<name>")
    def output_file(period, name):
        path = output_files(period).get(name) or abort(404)  # a listed file, never a joined path
        return send_file(path, as_attachment=True, download_name=name)

    def send_archived(lookup, *args):
        """A file the ledger knows by id (path, name), or 404: no path from the request is used."""
        con = queries.open_ledger(project.db)
        try:
            found = lookup(con, project.db, *args)
        finally:
            con.close()
        if found is None:
            abort(404)
        return send_file(found[0], as_attachment=True, download_name=found[1])

    @app.get("/p/<period:period>/file/<int:file_id>")
    def original(period, file_id):
        return send_archived(queries.archived_file, file_id)

    @app.get("/p/<period:period>/attachment/<int:attachment_id>")
    def attachment(period, attachment_id):
        return send_archived(queries.attachment_file, period, attachment_id)

    @app.get("/p/<period:period>/annotated/<int:return_id>")
    def annotated(period, return_id):
        p = annotated_copy(period, return_id) or abort(404)
        return send_file(p, as_attachment=True, download_name=p.name)

    @app.get("/master")
    def master_file():
        if not project.master.is_file():
            abort(404)
        return send_file(project.master, as_attachment=True, download_name=project.master.name)

    return app
