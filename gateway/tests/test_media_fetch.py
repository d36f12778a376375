"""The SSRF guard of `media_urls` fetching, against a real HTTP server on loopback.

The loopback server is let through only by `allow_networks=["127.0.0.1/32"]` (the test-only
setting `STORYREEL_MEDIA_FETCH_ALLOW_NETWORKS`); every other probe must be refused before a
connection is made, which the server's request log proves ("nothing fetched").
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from storyreel_core.errors import AppError
from storyreel_gateway.media_fetch import MediaFetcher, UnsafeUrl, is_public
from storyreel_gateway.routers.video_tasks import media_kind

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        if self.path.startswith("/redirect?to="):
            self.send_response(302)
            self.send_header("Location", self.path.split("=", 1)[1])
            self.end_headers()
            return
        body = PNG if self.path == "/image" else b"x" * 5000
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def fetcher(table: dict[str, list[str]] | None = None, **kw: object) -> MediaFetcher:
    async def resolve(host: str, _port: int) -> list[str]:
        if table is None or host not in table:
            raise OSError("unknown host")
        return table[host]

    return MediaFetcher(
        max_bytes=int(kw.get("max_bytes", 4096)),  # type: ignore[call-overload]
        timeout_s=5,
        resolver=resolve,
        allow_networks=["127.0.0.1/32"],
    )


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "224.0.0.1", "240.0.0.1", "::1", "fe80::1", "fd00:ec2::254", "ff02::1",
     "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "::"],
)  # fmt: skip
def test_special_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


def test_public_addresses_are_public() -> None:
    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert is_public(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"))


async def test_allowed_loopback_server_is_fetched(server: str) -> None:
    got = await fetcher().fetch(f"{server}/image")
    assert got.data == PNG


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2:{port}/x",
        "http://10.0.0.1:{port}/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/x",
        "http://[::ffff:127.0.0.2]:{port}/x",
        "http://rebind.example:{port}/x",  # resolves to a public and a metadata address
        "http://metadata.example/x",  # resolves to 169.254.169.254
        "file:///etc/passwd",
        "ftp://example.com/x",
        "http://user:pw@127.0.0.1:{port}/x",
    ],
)
async def test_refused_before_any_request(server: str, url: str) -> None:
    port = server.rsplit(":", 1)[1]
    table = {
        "rebind.example": ["93.184.216.34", "127.0.0.2"],
        "metadata.example": ["169.254.169.254"],
    }
    before = len(_Handler.seen)
    with pytest.raises(UnsafeUrl) as info:
        await fetcher(table).fetch(url.format(port=port))
    assert info.value.http_status == 400 and info.value.field == "media_urls"
    assert len(_Handler.seen) == before  # nothing fetched


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.2:{port}/image", "http://169.254.169.254/", "http://[::1]:{port}/image",
     "http://metadata.example/", "gopher://127.0.0.1/"],
)  # fmt: skip
async def test_redirect_to_a_private_address_is_refused(server: str, target: str) -> None:
    port = server.rsplit(":", 1)[1]
    _Handler.seen.clear()
    with pytest.raises(UnsafeUrl):
        await fetcher({"metadata.example": ["169.254.169.254"]}).fetch(
            f"{server}/redirect?to={target.format(port=port)}"
        )
    assert _Handler.seen == [f"/redirect?to={target.format(port=port)}"]  # only the first hop


async def test_size_limit(server: str) -> None:
    with pytest.raises(AppError) as info:
        await fetcher(max_bytes=1000).fetch(f"{server}/big")
    assert info.value.http_status == 413


def test_media_is_typed_by_content_and_the_rest_is_415() -> None:
    assert media_kind(PNG)[0] == "image"
    assert media_kind(b"# title\n\ntext")[0] == "markdown"
    for data in (b"RIFF\x24\x00\x00\x00WAVEfmt ", b"%PDF-1.4\n", b"\x00\x01\x02binary", b""):
        with pytest.raises(AppError) as info:
            media_kind(data)
        assert info.value.http_status == 415
