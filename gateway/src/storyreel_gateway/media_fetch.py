"""Fetch a URL a user gave (seed 003's `media_urls`) without letting it reach inside the network.

The one place the platform reads a user's URL, so the one place server-side request forgery is
stopped:

- only `http` and `https`, no user info in the URL, at most `MAX_REDIRECTS` redirects, each one
  checked like the first;
- the host is resolved by us and **every** address it resolves to must be public: loopback,
  private (RFC 1918, ULA), link-local (169.254/16 — the cloud metadata address — and fe80::/10),
  shared (100.64/10), multicast, reserved, unspecified and documentation ranges are refused, for
  IPv4, IPv6 and IPv4 inside IPv6 (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
  `2002::/16`);
- the check happens per connection inside httpx's transport (an httpcore network backend), and
  the connection goes to the very address that was checked, so a name that resolves to a public
  address for the check and to 127.0.0.1 for the connection (DNS rebinding) cannot get through;
  TLS still verifies the certificate for the URL's host name (SNI) and `Host` is the URL's;
- proxies from the environment are ignored (`trust_env=False`): a proxy would connect for us;
- time (`timeout_s` for the whole fetch) and size (`max_bytes`, streamed, stopped at the limit)
  are bounded.

A refused URL raises `AppError` 400 (1001, field `media_urls`) before any byte is sent to it.
`allow_networks` (setting `STORYREEL_MEDIA_FETCH_ALLOW_NETWORKS`, empty by default) lets named
CIDRs through: for tests against a loopback server only, never in production.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from storyreel_core.errors import AppError, Code, ValidationFailed
from storyreel_core.logging import get_logger

log = get_logger("storyreel.gateway.media_fetch")

MAX_REDIRECTS = 5
RESOLVE_TIMEOUT_S = 10.0
REDIRECTS = frozenset({301, 302, 303, 307, 308})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses it resolves to (strings, IPv4 or IPv6).
Resolver = Callable[[str, int], Awaitable[list[str]]]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_6TO4 = ipaddress.ip_network("2002::/16")


class UnsafeUrl(ValidationFailed):
    """The URL, or an address it resolves to, is not one the platform may fetch (400)."""


def refused(url: str, reason: str) -> UnsafeUrl:
    return UnsafeUrl(f"{url[:200]} can not be fetched: {reason}", field="media_urls")


def embedded_ipv4(addr: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4), if any."""
    if isinstance(addr, ipaddress.IPv4Address):
        return None
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr in _6TO4:
        return addr.sixtofour
    return None


def is_public(addr: IPAddress) -> bool:
    """True for an address on the public internet: `is_global` and none of the special
    ranges (Python's tables follow the IANA special-purpose registries, RFC 6890)."""
    inner = embedded_ipv4(addr)
    if inner is not None and not is_public(inner):
        return False
    return bool(
        addr.is_global
        and not (
            addr.is_loopback
            or addr.is_private
            or addr.is_link_local
            or addr.is_multicast
            or addr.is_reserved
            or addr.is_unspecified
        )
    )


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class AddressPolicy:
    resolver: Resolver = system_resolver
    allow: tuple[Network, ...] = ()

    def allowed(self, addr: IPAddress) -> bool:
        return is_public(addr) or any(addr in net for net in self.allow)

    async def checked_address(self, host: str, port: int) -> str:
        """The address to connect to for `host`: every address it resolves to must be allowed
        (one private answer among public ones refuses the host). UnsafeUrl otherwise."""
        name = host.strip("[]")
        try:
            literal: IPAddress | None = ipaddress.ip_address(name)
        except ValueError:
            literal = None
        if literal is not None:
            found = [literal]
        else:
            try:
                async with asyncio.timeout(RESOLVE_TIMEOUT_S):
                    answers = await self.resolver(name, port)
                found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in answers]
            except (OSError, ValueError, TimeoutError) as exc:
                raise refused(host, "the host name does not resolve") from exc
        if not found:
            raise refused(host, "the host name does not resolve")
        bad = [a for a in found if not self.allowed(a)]
        if bad:
            raise refused(host, f"it points at a non-public address ({bad[0]})")
        return str(found[0])


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address check in front of every TCP connect."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await self.policy.checked_address(host, port)
        # The checked address is the one connected to; TLS (started later on this stream by
        # httpcore) still names `host`, so SNI and certificate checks are the URL's.
        return await self.inner.connect_tcp(
            address, port, timeout=timeout, local_address=local_address,
            socket_options=socket_options,
        )  # fmt: skip

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verifying context (certifi's CAs), built once: loading the CA bundle
    takes tens of milliseconds."""
    return httpx.create_ssl_context()


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport over a connection pool that uses `GuardedBackend`."""

    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__(retries=0)
        # httpx builds its pool in __init__ without a network-backend hook; the pool is
        # replaced by one that has the guard (same TLS defaults as httpx's).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls_context(),
            max_connections=4,
            http1=True,
            http2=False,
            retries=0,
            network_backend=GuardedBackend(policy),
        )


@dataclass
class Fetched:
    url: str  # after redirects
    data: bytes
    content_type: str  # what the server said; never trusted for the type


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise refused(url, "only http and https URLs are fetched")
    if not parts.hostname:
        raise refused(url, "the URL has no host")
    if parts.username or parts.password:
        raise refused(url, "URLs with user info are not fetched")


class MediaFetcher:
    def __init__(
        self,
        *,
        max_bytes: int,
        timeout_s: float = 30.0,
        resolver: Resolver = system_resolver,
        allow_networks: Iterable[str] = (),
    ) -> None:
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.policy = AddressPolicy(
            resolver, tuple(ipaddress.ip_network(n.strip()) for n in allow_networks if n.strip())
        )

    async def fetch(self, url: str) -> Fetched:
        """GET `url` (following checked redirects): its bytes. UnsafeUrl (400) when refused,
        AppError 413 (3003) past `max_bytes`, 400 (1001) when it cannot be read in time or
        answers an error status."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._fetch(url)
        except TimeoutError as exc:
            raise ValidationFailed(
                f"{url[:200]} took longer than {self.timeout_s:g} s", field="media_urls"
            ) from exc

    async def _fetch(self, url: str) -> Fetched:
        timeout = httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s))
        async with httpx.AsyncClient(
            transport=GuardedTransport(self.policy),
            follow_redirects=False,
            trust_env=False,
            timeout=timeout,
        ) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                check_url(url)
                try:
                    async with client.stream("GET", url) as response:
                        if response.status_code in REDIRECTS:
                            target = response.headers.get("location", "")
                            if not target:
                                raise refused(url, "a redirect without a location")
                            url = urljoin(url, target)
                            continue
                        if response.status_code >= 400:
                            raise ValidationFailed(
                                f"{url[:200]} answered HTTP {response.status_code}",
                                field="media_urls",
                            )
                        data = await self._read(response)
                        return Fetched(url, data, response.headers.get("content-type", ""))
                except UnsafeUrl:
                    raise
                except httpx.HTTPError as exc:
                    cause = exc.__cause__ or exc.__context__
                    if isinstance(cause, UnsafeUrl):
                        raise cause from exc
                    raise ValidationFailed(
                        f"{url[:200]} could not be fetched: {type(exc).__name__}",
                        field="media_urls",
                    ) from exc
            raise refused(url, f"more than {MAX_REDIRECTS} redirects")

    async def _read(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large(self.max_bytes)
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large(self.max_bytes)
            chunks.append(chunk)
        return b"".join(chunks)


def too_large(limit: int) -> AppError:
    return AppError(
        f"a media file is larger than {limit} bytes",
        code=Code.FILE_TOO_LARGE,
        field="media_urls",
    )
