"""S3 adapter of `ObjectStore` (MinIO, AWS S3 or any S3 API) for distributed mode, on minio-py.

minio-py blocks, so every call runs in a worker thread. Large files go up as multipart uploads
(`fput_object`), which S3 makes visible only once complete, so readers see the old object or the
new one. Presigned URLs are signed locally (the region is set, so no lookup goes out), by a
second client that knows the public endpoint browsers reach when it differs from the inner one.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from storyreel_core.errors import NotFound, ServiceUnavailable, ValidationFailed
from storyreel_core.settings import Settings
from storyreel_core.stores.object_store import ObjectInfo, check_key

PART_SIZE = 16 * 1024 * 1024
MAX_PRESIGN_S = 7 * 24 * 3600
_MISSING = frozenset({"NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"})
_BUCKET_TAKEN = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._\- ]")
_DEFAULT_TYPE = "application/octet-stream"


def _endpoint(value: str, secure: bool) -> tuple[str, bool]:
    """`host:port` or `http(s)://host:port` → (host:port, secure)."""
    if "://" not in value:
        return value.rstrip("/"), secure
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
        raise ValidationFailed(f"invalid S3 endpoint {value!r}", field="s3_endpoint")
    return parts.netloc, parts.scheme == "https"


def _http_client() -> urllib3.PoolManager:
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=10.0, read=300.0),
        maxsize=16,
        cert_reqs="CERT_REQUIRED",
        retries=urllib3.Retry(total=5, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


def _content_disposition(filename: str) -> str:
    fallback = _UNSAFE_FILENAME.sub("_", filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _is_missing(exc: S3Error) -> bool:
    return exc.code in _MISSING


class S3ObjectStore:
    def __init__(
        self,
        endpoint: str,
        access_key: str | None,
        secret_key: str | None,
        bucket: str,
        *,
        secure: bool = False,
        region: str = "us-east-1",
        public_endpoint: str | None = None,
    ) -> None:
        host, is_secure = _endpoint(endpoint, secure)
        self.bucket = bucket
        self.region = region
        self._http = _http_client()
        self._client = Minio(
            host,
            access_key=access_key,
            secret_key=secret_key,
            secure=is_secure,
            region=region,
            http_client=self._http,
        )
        if public_endpoint:
            public_host, public_secure = _endpoint(public_endpoint, secure)
            self._signer = Minio(
                public_host,
                access_key=access_key,
                secret_key=secret_key,
                secure=public_secure,
                region=region,
            )
        else:
            self._signer = self._client

    @classmethod
    def from_settings(cls, settings: Settings) -> S3ObjectStore:
        if not settings.s3_endpoint:
            raise ValidationFailed("s3_endpoint is not set", field="s3_endpoint")
        return cls(
            settings.s3_endpoint,
            settings.s3_access_key.get_secret_value() if settings.s3_access_key else None,
            settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None,
            settings.s3_bucket,
            secure=settings.s3_secure,
            region=settings.s3_region,
            public_endpoint=settings.s3_public_endpoint,
        )

    @property
    def client(self) -> Minio:
        return self._client

    def _ensure_bucket(self) -> None:
        if self._client.bucket_exists(self.bucket):
            return
        try:
            self._client.make_bucket(self.bucket, location=self.region)
        except S3Error as exc:
            if exc.code not in _BUCKET_TAKEN:
                raise

    async def connect(self) -> S3ObjectStore:
        try:
            await asyncio.to_thread(self._ensure_bucket)
        except (S3Error, urllib3.exceptions.HTTPError) as exc:
            raise ServiceUnavailable(f"object store unreachable: {exc}") from exc
        return self

    async def ping(self) -> bool:
        try:
            return await asyncio.to_thread(self._client.bucket_exists, self.bucket)
        except (S3Error, urllib3.exceptions.HTTPError):
            return False

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        check_key(key)
        await asyncio.to_thread(
            self._client.put_object,
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type,
        )
        return ObjectInfo(key=key, size=len(data), content_type=content_type)

    async def put_file(self, key: str, path: Path, content_type: str) -> ObjectInfo:
        check_key(key)
        size = (await asyncio.to_thread(Path(path).stat)).st_size
        await asyncio.to_thread(
            self._client.fput_object,
            self.bucket,
            key,
            str(path),
            content_type=content_type,
            part_size=PART_SIZE,
        )
        return ObjectInfo(key=key, size=size, content_type=content_type)

    def _get_bytes(self, key: str) -> bytes:
        response = self._client.get_object(self.bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    async def get_bytes(self, key: str) -> bytes:
        check_key(key)
        try:
            return await asyncio.to_thread(self._get_bytes, key)
        except S3Error as exc:
            if _is_missing(exc):
                raise NotFound(f"object {key} not found") from exc
            raise

    async def download(self, key: str, path: Path) -> Path:
        check_key(key)
        try:
            await asyncio.to_thread(self._client.fget_object, self.bucket, key, str(path))
        except S3Error as exc:
            if _is_missing(exc):
                raise NotFound(f"object {key} not found") from exc
            raise
        return path

    def _stat(self, key: str) -> ObjectInfo | None:
        try:
            found = self._client.stat_object(self.bucket, key)
        except S3Error as exc:
            if _is_missing(exc):
                return None
            raise
        return ObjectInfo(
            key=key, size=int(found.size or 0), content_type=found.content_type or _DEFAULT_TYPE
        )

    async def stat(self, key: str) -> ObjectInfo | None:
        check_key(key)
        return await asyncio.to_thread(self._stat, key)

    async def stream(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        check_key(key)
        if start < 0 or (end is not None and end < start):
            return
        length = 0 if end is None else end - start + 1  # 0: to the end of the object
        try:
            response = await asyncio.to_thread(
                self._client.get_object, self.bucket, key, offset=start, length=length
            )
        except S3Error as exc:
            if _is_missing(exc):
                raise NotFound(f"object {key} not found") from exc
            if exc.code == "InvalidRange":  # start at or past the end: nothing to send
                return
            raise
        try:
            while True:
                chunk = await asyncio.to_thread(response.read, chunk_size)
                if not chunk:
                    break
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def delete(self, key: str) -> bool:
        check_key(key)
        if await self.stat(key) is None:
            return False
        await asyncio.to_thread(self._client.remove_object, self.bucket, key)
        return True

    def _list(self, prefix: str) -> list[str]:
        objects = self._client.list_objects(self.bucket, prefix=prefix or None, recursive=True)
        return sorted(o.object_name for o in objects if o.object_name and not o.is_dir)

    async def list_keys(self, prefix: str) -> list[str]:
        if prefix:
            check_key(prefix.rstrip("/"))
        return await asyncio.to_thread(self._list, prefix)

    def _remove(self, keys: list[str]) -> None:
        errors = list(self._client.remove_objects(self.bucket, [DeleteObject(k) for k in keys]))
        if errors:
            raise ServiceUnavailable(f"could not delete {len(errors)} objects: {errors[0]}")

    async def delete_prefix(self, prefix: str) -> int:
        keys = await self.list_keys(prefix)
        if keys:
            await asyncio.to_thread(self._remove, keys)
        return len(keys)

    def presigned_get_url(self, key: str, expires_s: int, filename: str | None = None) -> str:
        """A GET URL on the public endpoint, signed here (no request goes out)."""
        check_key(key)
        headers: dict[str, Any] | None = None
        if filename:
            headers = {"response-content-disposition": _content_disposition(filename)}
        expires = timedelta(seconds=min(max(int(expires_s), 1), MAX_PRESIGN_S))
        return self._signer.presigned_get_object(
            self.bucket, key, expires=expires, response_headers=headers
        )

    async def close(self) -> None:
        self._http.clear()
