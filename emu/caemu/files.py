"""The Files API: uploads (streamed multipart), listing with its
pagination, metadata, content and deletion; and the record of one file.
"""

import base64
import os
import tempfile
import time

from .errors import APIError
from .tables import FILES_BETA
from .wire import FileSink, MemSink, MultipartError, _MIME, base_name, guess_mime, rfc3339


def int_param(name, v, lo, hi, out_of_range):
    """A whole number in lo..hi from a form field or query parameter, or
    the 400 the API answers, naming the parameter."""
    try:
        n = int(v)
    except ValueError:
        raise APIError(400, f"{name}: Input should be a valid integer")
    if not lo <= n <= hi:
        raise APIError(400, f"{name}: {out_of_range}")
    return n


class FileRec:
    def __init__(self, fid, filename, mime, size, path, downloadable, expires_at, source):
        self.id = fid
        self.filename = filename
        self.mime_type = mime
        self.size = size
        self.path = path
        self.created = time.time()
        self.downloadable = downloadable
        self.expires_at = expires_at
        self.source = source            # "upload" | "generated" | "control"
        self.deleted = False
        self.force_expired = False

    def expired(self):
        return self.force_expired or (self.expires_at is not None and time.time() >= self.expires_at)

    def meta(self):
        return {
            "id": self.id, "type": "file", "filename": self.filename,
            "mime_type": self.mime_type,
            "size_bytes": getattr(self, "claimed_size", None) or self.size,
            "created_at": rfc3339(self.created),
            "downloadable": self.downloadable,
            "expires_at": rfc3339(self.expires_at) if self.expires_at is not None else None,
        }


class Files:
    """Handler methods: the Files API routes."""

    def h_files_upload(self):
        if self.boundary is None:
            self.finish_request_body()
            raise APIError(400, "Content-Type must be multipart/form-data with a boundary")
        limit = int(self.emu.cfg("max_file_size"))
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=self.emu.files_dir)
        os.close(fd)
        state = {"file": None}

        def sink_for(info):
            if info["name"] == "file" and state["file"] is None:
                state["file"] = info
                return FileSink(tmp, limit)
            return MemSink()

        try:
            try:
                parts = self.consume_multipart(sink_for)
            except MultipartError as e:
                raise APIError(400, f"Malformed multipart body: {e}")
            fpart = state["file"]
            if fpart is None:
                raise APIError(400, "file: field required")
            if fpart["sink"].overflow:
                raise APIError(413, f"File too large: the limit is {limit} bytes")
            secs = None
            for p in parts:
                if p["name"] == "expires_in_seconds":
                    raw = bytes(p["sink"].buf).decode("utf-8", "replace").strip()
                    secs = int_param("expires_in_seconds", raw, 3600, 7776000,
                                     "must be between 3600 and 7776000")
            ct = (fpart["content_type"] or "").split(";")[0].strip().lower()
            name = base_name(fpart["filename"] or "")
            if not ct or ct == "application/octet-stream":
                ct = guess_mime(name)
            if name == "":
                ext = _MIME.guess_extension(ct) if ct != "application/octet-stream" else None
                name = "unnamed" + (ext or "")
            rec = self.emu.add_file(tmp, name, ct, False, None, "upload", move=True)
            if secs is not None:        # exactly expires_in_seconds after created_at
                rec.expires_at = rec.created + secs
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self.respond_json(200, rec.meta())

    def h_files_list(self):
        q = self.query
        allf = self.emu.all_newest_first()
        order = [r.id for r in allf]

        def qone(name):
            v = q.get(name)
            return v[-1] if v else None

        def qlimit():
            v = qone("limit")
            if v is None:
                return 20
            return int_param("limit", v, 1, 1000, "Input should be between 1 and 1000")

        def live_from(i):
            return [r for r in allf[i:] if not r.deleted]

        if FILES_BETA in self.betas():
            limit = qlimit()
            before, after = qone("before_id"), qone("after_id")
            if before and after:
                raise APIError(400, "before_id and after_id are mutually exclusive")
            if after:
                if after not in order:
                    raise APIError(400, f"after_id: unknown file id {after}")
                rest = live_from(order.index(after) + 1)
                data, more = rest[:limit], len(rest) > limit
            elif before:
                if before not in order:
                    raise APIError(400, f"before_id: unknown file id {before}")
                prior = [r for r in allf[:order.index(before)] if not r.deleted]
                data, more = prior[-limit:], len(prior) > limit
            else:
                rest = live_from(0)
                data, more = rest[:limit], len(rest) > limit
            self.respond_json(200, {"data": [r.meta() for r in data], "has_more": more,
                                    "first_id": data[0].id if data else None,
                                    "last_id": data[-1].id if data else None})
            return
        for k in ("before_id", "after_id"):
            if k in q:
                raise APIError(400, f"{k}: not supported without the {FILES_BETA} beta; "
                                    "use page and next_page")
        ids = q.get("ids[]", []) + q.get("ids", [])
        if ids:
            if "page" in q or "limit" in q:
                raise APIError(400, "ids[] is mutually exclusive with page and limit")
            uniq = list(dict.fromkeys(ids))
            if len(uniq) > 100:
                raise APIError(400, "ids[]: at most 100 ids")
            data = [r for r in (self.emu.get_file(i) for i in uniq) if r is not None]
            self.respond_json(200, {"data": [r.meta() for r in data], "next_page": None})
            return
        limit = qlimit()
        page = qone("page")
        start = 0
        if page:
            try:
                s = page[len("page_"):] if page.startswith("page_") else "!"
                fid = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()
                start = order.index(fid) + 1
            except (ValueError, UnicodeDecodeError):
                raise APIError(400, "page: invalid cursor")
        rest = live_from(start)
        data = rest[:limit]
        nxt = None
        if len(rest) > limit:
            nxt = "page_" + base64.urlsafe_b64encode(data[-1].id.encode()).decode().rstrip("=")
        self.respond_json(200, {"data": [r.meta() for r in data], "next_page": nxt})

    def file_or_404(self, fid):
        rec = self.emu.get_file(fid)
        if rec is None:
            raise APIError(404, f"File not found: {fid}")
        return rec

    def replayed(self, fid):
        """With --replay, a file the transcript fetched, else None."""
        r = self.emu.replay
        return r.files.get(fid) if r is not None and self.emu.get_file(fid) is None else None

    def h_file_meta(self, fid):
        f = self.replayed(fid)
        if f is not None:
            self.respond(200, f.meta_raw)
            return
        self.respond_json(200, self.file_or_404(fid).meta())

    def h_file_delete(self, fid):
        rec = self.file_or_404(fid)
        self.emu.delete_file(rec)
        self.respond_json(200, {"id": fid, "type": "file_deleted"})

    def h_file_content(self, fid):
        f = self.replayed(fid)
        if f is not None:
            if f.path is None:
                raise APIError(404, f"ca-emu --replay: the bytes of {fid} are not here: give "
                                    "the directory it was fetched to (--replay-files DIR)")
            self.respond(200, ctype="application/octet-stream", path=f.path)
            return
        rec = self.file_or_404(fid)
        if rec.expired():
            raise APIError(404, f"File {fid} has expired", code="file_expired")
        if not rec.downloadable:
            raise APIError(400, f"File {fid} is not downloadable: only files created by code "
                                "execution or skills can be downloaded", code="file_not_downloadable")
        self.respond(200, ctype="application/octet-stream", path=rec.path)
