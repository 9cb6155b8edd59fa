"""Request bodies read with a hard size limit, shared by every webhook endpoint."""

from __future__ import annotations

from starlette.requests import Request


async def read_limited(request: Request, max_bytes: int) -> bytes | None:
    """The body, read chunk by chunk; None as soon as it passes ``max_bytes`` (never buffered beyond)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
