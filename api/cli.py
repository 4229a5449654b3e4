"""The `formdesk` command: list templates, show one, render blank or prefilled PDFs."""

from __future__ import annotations

import json
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from formdesk.model.errors import StoreError, ValueDoesNotFitError
from formdesk.model.print_jobs import PAPERS, ganged
from formdesk.settings import signing_key
from formdesk.templates import UnknownTemplateError, get_template, load_catalog
from formdesk.templates.layout import describe
from formdesk.templates.values.normalize import FieldValueError, normalize_record

from .cli_check import check_command
from .cli_claims import claims_app
from .cli_common import fail, open_cli_store
from .cli_db import db_app
from .cli_layouts import layout_app
from .cli_reconcile import reconcile_command
from .cli_summary import summary_command
from .cli_users import token_app, user_app

app = typer.Typer(
    help="formdesk:售后/三包表单的模板、打印与识读",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


@app.command("templates")
def list_templates(
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出全部表单模板。"""
    catalog = load_catalog()
    rows = [
        {
            "code": t.code,
            "name": t.name,
            "title": t.title,
            "version": t.version,
            "paper": f"{t.paper.size} {t.paper.orientation}",
            "fields": len(t.fields),
            "fields_source": t.fields_source,
        }
        for t in catalog.values()
    ]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("代码", "名称", "纸张", "栏目数", "来源")
    for r in rows:
        table.add_row(r["code"], r["title"], r["paper"], str(r["fields"]), r["fields_source"])
    out.print(table)


@app.command("template")
def show_template(
    code: Annotated[str, typer.Argument(help="模板代码,如 SH-ZH/BD-27 或 表格04")],
    as_json: Annotated[bool, typer.Option("--json", help="输出带坐标的 JSON")] = False,
) -> None:
    """显示一个模板的全部栏目(坐标单位 mm)。"""
    try:
        tpl = get_template(code)
    except UnknownTemplateError as exc:
        raise fail(str(exc)) from None
    data = describe(tpl)
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    out.print(
        f"{tpl.code} {tpl.title}  v{tpl.version}  {tpl.paper.size} {tpl.paper.orientation}"
        f"  栏目来源:{tpl.fields_source}",
        markup=False,
    )
    table = Table("键", "标签", "类型", "必填", "位置 \\[x, y, w, h] mm")
    for f in data["fields"]:
        table.add_row(f["key"], f["label"], f["type"], "是" if f["required"] else "", str(f["box"]))
    out.print(table)
    for note in tpl.notes:
        out.print(note, markup=False)


@app.command("render")
def render(
    code: Annotated[str, typer.Argument(help="模板代码,如 SH-ZH/BD-27")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出 PDF 文件")],
    data: Annotated[
        Path | None, typer.Option("--data", help="预填数据:.json、.csv(UTF-8 或 GBK)或 .xlsx")
    ] = None,
    copies: Annotated[int, typer.Option("--copies", min=1, max=1000, help="每份表单打印几份")] = 1,
    no_gang: Annotated[
        bool, typer.Option("--no-gang", help="小标签每张单独一页(默认多张拼在一张 A4 上)")
    ] = False,
    paper: Annotated[
        str,
        typer.Option("--paper", help="小标签的纸张:a4x4 每张 A4 拼 4 枚(默认),a6 每页 A6 一枚"),
    ] = "a4x4",
    station: Annotated[
        str | None, typer.Option("--station", help="为哪个维修站打印(维修站代码;默认服务中心)")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="数据目录(默认 ./data 或 FORMDESK_DATA_DIR)")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="打印人(默认当前系统用户)")] = None,
) -> None:
    """打印空白或预填的表单 PDF;打印的每份表单都登记在数据目录中,扫描件才能被识别和核验。"""
    import getpass

    from rich.progress import Progress

    from formdesk.services.printing import load_print_data, print_documents
    from formdesk.services.stations import require_station

    # UnknownTemplateError, RecordSourceError: one line and exit 1 (main)
    tpl = get_template(code)
    if paper not in PAPERS:
        raise fail(f"--paper 只能是 {' 或 '.join(PAPERS)}(不是 {paper})")
    if paper == "a6" and tpl.per_sheet <= 1:
        raise fail(f"{tpl.code} 不是小标签,只按 {tpl.paper.size} 纸张打印,不能用 --paper a6")
    records: list[tuple[int, dict]] = [(0, {})] if data is None else load_print_data(data, tpl)
    where = (
        (lambda line: f"{data.name} 第{line}行 ")
        if data and data.suffix.lower() != ".json"
        else (lambda n: f"第{n}条记录 " if len(records) > 1 else "")
    )
    clean = []
    for line, values in records:
        try:
            clean.append((line, normalize_record(tpl, values)))
        except FieldValueError as exc:
            raise fail(f"{where(line)}{exc}") from None
    if not output.parent.exists():
        raise fail(f"输出目录不存在:{output.parent}")
    store = open_cli_store(data_dir)
    if station is not None:
        station = require_station(store, station).code  # NotFoundError: one line, exit 1
    with Progress(console=err, transient=True, disable=len(clean) < 20) as bar:
        task = bar.add_task("生成 PDF", total=len(clean))
        try:
            docs = print_documents(
                store, signing_key(data_dir), tpl, [values for _, values in clean], output,
                station=station, issued_by=user or getpass.getuser(), copies=copies,
                gang=not no_gang and ganged(paper), progress=lambda n: bar.update(task, completed=n),
            )  # fmt: skip
        except ValueDoesNotFitError as exc:
            line = clean[exc.record - 1][0] if exc.record else 0
            raise fail(f"{where(line)}{exc}") from None
        except StoreError as exc:
            raise fail(f"无法登记打印的表单:{exc}") from None
    pages = sum(d.pages * d.copies for d in docs)
    print(f"已生成 {output}:{len(docs)} 份表单,{pages} 页(已登记)", file=sys.stderr)


@app.command("read")
def read(
    files: Annotated[list[Path], typer.Argument(help="扫描件或照片:PDF、JPEG、PNG、TIFF")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="把识别结果写入 JSON 文件")
    ] = None,
) -> None:
    """识读填好的表单,逐栏给出值、置信度和状态。"""
    from rich.progress import Progress

    from formdesk.model.errors import IngestError
    from formdesk.services.reading import count_file_pages, read_file_here

    refused: list[str] = []
    work: list[tuple[Path, bytes, int]] = []
    for path in files:
        try:
            data = path.read_bytes()
            work.append((path, data, count_file_pages(data, path.name)))
        except OSError as exc:
            refused.append(f"{path}:无法读取文件({exc.strerror})")
        except IngestError as exc:
            refused.append(f"{path}:{exc}")
    results = []
    with Progress(console=err, transient=True, disable=not work) as progress:
        task = progress.add_task("识读页面", total=sum(n for *_, n in work))
        named = [(path.name, data) for path, data, _ in work]
        done = read_file_here(signing_key(), named, lambda: progress.advance(task))
        for (path, *_), (_, result) in zip(work, done, strict=True):
            if isinstance(result, IngestError):
                refused.append(f"{path}:{result}")
            else:
                results.append((path, result))
    for path, result in results:
        for rec in result.records:
            review = [f.label for f in rec.fields if f.status in ("check", "invalid")]
            state = "可入库" if rec.status == "ready" else "需复核"
            out.print(
                f"{path.name}  {rec.template}  文档号 {rec.document_id}  {state}"
                + (f"(请核对:{'、'.join(review)})" if review else ""),
                markup=False,
            )
        for problem in result.problems:
            out.print(f"{path.name} 第{problem.file_page + 1}页:{problem.reason}", markup=False)
    if json_out is not None:
        payload = [{"file": str(p), **r.model_dump(mode="json")} for p, r in results]
        json_out.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    for line in refused:
        print(f"错误:{line}", file=sys.stderr)
    if refused:
        raise typer.Exit(code=1)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="数据目录(默认 ./data 或 FORMDESK_DATA_DIR)")
    ] = None,
    samples: Annotated[
        Path | None,
        typer.Option("--samples", help="首次启动时载入样例(samples 目录):每种表单一份,排队识读"),
    ] = None,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies",
            help="登录 Cookie 加 Secure 标记(经 HTTPS 提供服务时打开;也可设 FORMDESK_SECURE_COOKIES=1)",
        ),
    ] = False,
    no_reader: Annotated[
        bool,
        typer.Option(
            "--no-reader",
            help="只提供网页服务,不在本机识读(PostgreSQL:由 formdesk worker 识读)",
        ),
    ] = False,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            help="信任哪些反向代理的 X-Forwarded-For/-Proto/-Host(逗号分隔的地址,如 127.0.0.1);"
            "不填则不信任,按连接地址计算登录失败次数",
        ),
    ] = None,
) -> None:
    """启动网页服务,后台自动识读上传的扫描件(TinyDB:本进程识读;PostgreSQL:识读进程,可加 formdesk worker)。"""
    import uvicorn

    from formdesk.services.samples import load_sample_claims, load_samples
    from formdesk.settings import Settings

    from .app import create_app

    try:
        settings = Settings.from_env(data_dir)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if secure_cookies:
        settings = replace(settings, secure_cookies=True)
    if forwarded_allow_ips is not None:  # the trusted proxy's X-Forwarded-Host names this site
        settings = replace(settings, trust_forwarded_host=True)
    if no_reader and not settings.database_url:
        raise fail(
            "--no-reader 需要 PostgreSQL(FORMDESK_DATABASE_URL):TinyDB 只能由 serve 自己识读"
        )
    try:
        web = create_app(settings=settings, start_worker=not no_reader)
    except StoreError as exc:  # a damaged data file, users lost: one line, exit 1
        raise fail(str(exc)) from None
    if samples is not None:
        n = load_samples(web.state.store, web.state.key, samples / "records")
        if n:
            print(f"已载入样例:{n} 页扫描件排队识读(维修站 HN01)")
        claims = load_sample_claims(web.state.store, samples / "claims.csv")
        if claims:
            print(f"已导入样例索赔单 {claims} 张(2026年3月,可在“核对”页查看)")
    if web.state.first_password:
        print(
            f"首次启动:已创建管理员 admin,密码 {web.state.first_password}(只显示这一次,请登录后妥善保存)"
        )
    print(f"formdesk 服务:http://{host}:{port}/   接口文档:http://{host}:{port}/docs")
    uvicorn.run(
        web,
        host=host,
        port=port,
        log_level="warning",
        # the client address counts sign-in failures: a proxy's header only when trusted
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
    )


@app.command("worker")
def worker(
    processes: Annotated[int, typer.Option("--processes", min=1, help="识读进程数")] = 1,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="数据目录(签名密钥;默认 ./data 或 FORMDESK_DATA_DIR)"),
    ] = None,
) -> None:
    """在本机运行识读进程,处理 PostgreSQL 上排队的扫描件(可在多台机器上运行)。"""
    from formdesk.services.read_queue import QueueWorkers
    from formdesk.settings import Settings

    try:
        settings = Settings.from_env(data_dir)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if not settings.database_url:
        raise fail("formdesk worker 需要 PostgreSQL:请设置 FORMDESK_DATABASE_URL=postgresql://…")
    from formdesk.services.stores import check_reader_machine

    check_reader_machine(settings)  # database, schema, signing key: one line, exit 1 (main)
    workers = QueueWorkers(settings, processes=processes)
    stop = lambda *_: workers.stop()  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers.start()
    print(f"formdesk 识读进程 {processes} 个已启动(Ctrl+C 停止)", flush=True)
    workers.wait()


app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(claims_app, name="claims", help="三包索赔单:导入、查看")
app.add_typer(db_app, name="db")
app.add_typer(layout_app, name="layout")
app.command("summary")(summary_command)
app.command("reconcile")(reconcile_command)
app.command("check")(check_command)


def main() -> None:
    """The `formdesk` command; any FormdeskError no command handled (a refusal with its
    Chinese reason: a bad file, a value, the store) is one line on stderr and exit 1."""
    from formdesk.model.errors import FormdeskError

    try:
        app()
    except FormdeskError as exc:
        print(f"错误:{exc}", file=sys.stderr)
        sys.exit(1)
