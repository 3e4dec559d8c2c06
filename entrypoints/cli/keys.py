"""``hotline keys …``: key material for encryption at rest and the audit chain (infra/keys.py)."""

from __future__ import annotations

from pathlib import Path

import click

from hotline.infra.keys import InvalidKey, decode_key, generate_key, write_key_file


@click.group(help="管理加密密钥（个人信息加密存储、审计链）。")
def keys() -> None:
    pass


@keys.command(
    help="生成新密钥（32 字节随机数，base64）。默认打印到标准输出，可设为 HOTLINE_CIPHER_KEY 或 "
    "HOTLINE_AUDIT_KEY；--out 写入文件（仅属主可读）。"
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="写入此文件而不是打印",
)
@click.option(
    "--if-missing",
    is_flag=True,
    help="文件已存在时保留原密钥，什么也不做（需配合 --out）",
)
def generate(out: Path | None, if_missing: bool) -> None:
    if out is None:
        if if_missing:
            raise click.UsageError("--if-missing 需要配合 --out 使用")
        click.echo(generate_key())
        return
    if out.exists():
        if not if_missing:
            raise click.ClickException(f"{out} 已存在，不覆盖（覆盖会使已加密的数据无法读取）")
        try:
            decode_key(out.read_text(), str(out))
        except InvalidKey as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"保留已有密钥文件 {out}", err=True)
        return
    try:
        write_key_file(out, generate_key())
    except FileExistsError:
        if not if_missing:
            raise click.ClickException(f"{out} 已存在，不覆盖") from None
        return
    except OSError as error:
        raise click.ClickException(f"无法写入 {out}：{error.strerror}") from None
    click.echo(
        f"已生成密钥文件 {out}（权限 0600）。请妥善备份：丢失密钥即无法读取已加密的数据。",
        err=True,
    )
