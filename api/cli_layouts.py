"""`formdesk layout`: register, list and remove layout variants of catalog forms — paper
versions formdesk did not print (issue 13).  A refusal (FormdeskError: a bad file, an
unknown form, a name taken) is one line on stderr and exit 1, by `api.cli.main`'s handler."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from .cli_common import fail, open_cli_store

layout_app = typer.Typer(help="外部表单版式:由扫描件登记、查看、删除", no_args_is_help=True)
MAX_FILE_BYTES = 50 * 1024 * 1024


@layout_app.command("add")
def layout_add(
    code: Annotated[str, typer.Argument(help="模板代码,如 SH-ZH/BD-27 或 表格04")],
    file: Annotated[Path, typer.Argument(help="空白表单的扫描件或照片:PDF、JPEG、PNG、TIFF")],
    name: Annotated[str | None, typer.Option("--name", help="版式名称(默认取文件名)")] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="数据目录(默认 ./data 或 FORMDESK_DATA_DIR)")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="登记人(默认当前系统用户)")] = None,
    preview_png: Annotated[
        Path | None, typer.Option("--preview", help="把标出各栏目的参考图像写入此 PNG 文件")
    ] = None,
) -> None:
    """由一张空白表单的扫描件登记版式:自动找出各栏目的位置并保存。"""
    from formdesk.services.layouts import describe_missing, register_layout

    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise fail(f"文件过大:{file}")
        data = file.read_bytes()
    except OSError:
        raise fail(f"无法读取文件:{file}") from None
    store = open_cli_store(data_dir)
    variant, proposal = register_layout(
        store, code, name or file.stem, data, file.name, user or getpass.getuser()
    )
    from formdesk.templates import get_template

    template = get_template(variant.template)
    found = len(variant.fields) + (1 if variant.table else 0)
    print(
        f"已登记 {template.code} 的版式“{variant.name}”:找到 {found}/{len(template.fields)} 个栏目"
    )
    for box in variant.fields:
        label = template.field(box.key).label
        x, y, w, h = box.box
        print(f"  {label}:{x:.1f}, {y:.1f} mm,{w:.1f} × {h:.1f} mm")
    if variant.table:
        t = variant.table
        print(f"  明细表:{len(t.columns)} 列 × {t.rows} 行,行高 {t.row_height:.1f} mm")
    missing = describe_missing(template, proposal)
    if missing:
        print(f"未找到:{'、'.join(missing)}(用 formdesk layout box 补上)")
    if preview_png is not None:
        _write_preview(store, variant.template, variant.name, preview_png)


def _write_preview(store, code: str, name: str, path: Path) -> None:
    from formdesk.services.layouts import preview

    try:
        path.write_bytes(preview(store, code, name))
    except OSError as exc:
        raise fail(f"无法写入 {path}:{exc.strerror}") from None
    print(f"预览图:{path}")


@layout_app.command("box")
def layout_box(
    code: Annotated[str, typer.Argument(help="模板代码")],
    name: Annotated[str, typer.Argument(help="版式名称")],
    field: Annotated[str, typer.Argument(help="栏目(如 vin 或 车架号)")],
    x: Annotated[float, typer.Argument(help="左边距页面左边,mm")],
    y: Annotated[float, typer.Argument(help="上边距页面上边,mm")],
    w: Annotated[float, typer.Argument(help="宽,mm")],
    h: Annotated[float, typer.Argument(help="高,mm")],
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="数据目录")] = None,
) -> None:
    """修改或补上一个栏目的框(参考图像上的 mm 坐标)。"""
    from formdesk.services.layouts import set_box

    store = open_cli_store(data_dir, must_exist=True)
    set_box(store, code, name, field, (x, y, w, h))
    print(f"已设置“{field}”的框:{x:g}, {y:g} mm,{w:g} × {h:g} mm")


@layout_app.command("preview")
def layout_preview(
    code: Annotated[str, typer.Argument(help="模板代码")],
    name: Annotated[str, typer.Argument(help="版式名称")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出 PNG 文件")],
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="数据目录")] = None,
) -> None:
    """把版式的参考图像连同各栏目的框写成 PNG,供核对。"""
    store = open_cli_store(data_dir, must_exist=True)
    _write_preview(store, code, name, output)


@layout_app.command("list")
def layout_list(
    code: Annotated[str | None, typer.Argument(help="模板代码(默认全部)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="数据目录")] = None,
) -> None:
    """列出已登记的版式。"""
    from formdesk.services.layouts import list_layouts

    store = open_cli_store(data_dir, must_exist=True)
    variants = list_layouts(store, code)
    if as_json:
        rows = [v.model_dump(mode="json", exclude={"fingerprint"}) for v in variants]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not variants:
        print("没有已登记的版式")
    for v in variants:
        print(f"{v.template}\t{v.name}\t{len(v.fields)} 个栏目\t{v.created_by}")


@layout_app.command("remove")
def layout_remove(
    code: Annotated[str, typer.Argument(help="模板代码")],
    name: Annotated[str, typer.Argument(help="版式名称")],
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="数据目录")] = None,
) -> None:
    """删除一个版式。"""
    from formdesk.services.layouts import remove_layout

    store = open_cli_store(data_dir, must_exist=True)
    remove_layout(store, code, name)
    print(f"已删除版式“{name}”")


@layout_app.command("export")
def layout_export(
    code: Annotated[str, typer.Argument(help="模板代码")],
    name: Annotated[str, typer.Argument(help="版式名称")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出文件(.json)")],
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="数据目录")] = None,
) -> None:
    """把一个版式导出为文件,供其他服务中心导入。"""
    from formdesk.services.layouts import export_layout

    store = open_cli_store(data_dir, must_exist=True)
    data = export_layout(store, code, name)
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise fail(f"无法写入 {output}:{exc.strerror}") from None
    print(f"已导出版式“{name}”到 {output}")


@layout_app.command("import")
def layout_import(
    file: Annotated[Path, typer.Argument(help="formdesk layout export 导出的版式文件")],
    name: Annotated[str | None, typer.Option("--name", help="另存为此名称")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="数据目录")] = None,
    user: Annotated[str | None, typer.Option("--user", help="导入人(默认当前系统用户)")] = None,
) -> None:
    """导入其他服务中心导出的版式。"""
    from formdesk.services.layouts import MAX_IMPORT_BYTES, import_layout

    try:
        if file.stat().st_size > MAX_IMPORT_BYTES:
            raise fail(f"版式文件过大:{file}")
        data = file.read_bytes()
    except OSError:
        raise fail(f"无法读取文件:{file}") from None
    store = open_cli_store(data_dir)
    variant = import_layout(store, data, user or getpass.getuser(), name)
    print(f"已导入 {variant.template} 的版式“{variant.name}”({len(variant.fields)} 个栏目)")
