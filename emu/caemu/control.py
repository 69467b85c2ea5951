"""The control endpoints under /_emu/: reset, faults, config, generated
files and the like (see emu/README.md).  They are never logged.
"""

import base64
import os
import re
import tempfile
import time

from .errors import APIError
from . import ratelimit
from .expire import set_answer
from .faults import validate_fault
from .wire import gen_bytes, guess_mime, rfc3339


class Control:
    """Handler methods: the control endpoints under /_emu/."""

    def handle_control(self):
        self.read_body_mem()
        p, m = self.url_path, self.command
        emu = self.emu
        body = self.json_body if self.json_ok else None
        if self.raw_body and not self.json_ok:
            raise APIError(400, "control endpoints take a JSON body")
        if p == "/_emu/reset" and m == "POST":
            with emu.lock:
                emu.faults = []
                emu.pauses = []
                emu.config = emu.default_config()
                emu.rl = None
                emu.cache = {}
                emu.generation += 1
            emu.log.truncate()
            self.respond_json(200, {"ok": True})
        elif p == "/_emu/faults" and m == "POST":
            rules = body if isinstance(body, list) else [body]
            for r in rules:
                validate_fault(r)
            with emu.lock:
                emu.faults.extend(dict(r) for r in rules)
                n = len(emu.faults)
            self.respond_json(200, {"ok": True, "queued": n})
        elif p == "/_emu/faults" and m == "DELETE":
            with emu.lock:
                emu.faults = []
            self.respond_json(200, {"ok": True})
        elif p == "/_emu/faults" and m == "GET":
            with emu.lock:
                rules = [dict(r) for r in emu.faults]
                pauses = list(emu.pauses)
            self.respond_json(200, {"faults": rules, "pauses": pauses})
        elif p == "/_emu/config" and m in ("POST", "GET"):
            if m == "POST":
                if not isinstance(body, dict):
                    raise APIError(400, "config: a JSON object is required")
                with emu.lock:
                    for k, v in body.items():
                        if k not in emu.config:
                            raise APIError(400, f"config: unknown key {k!r}")
                        if k == "pause_each_step":
                            v = bool(v)
                        elif k == "ratelimit":
                            v = ratelimit.validate(v)
                            emu.rl = ratelimit.RateLimit(v) if v else None
                        elif not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                            raise APIError(400, f"config: {k} must be a number >= 0")
                        emu.config[k] = v
            with emu.lock:
                cfg = dict(emu.config)
            self.respond_json(200, cfg)
        elif p == "/_emu/files" and m == "POST":
            self.respond_json(200, self.control_file_create(body))
        elif re.fullmatch(r"/_emu/files/[^/]+", p) and m == "POST":
            fid = p.rsplit("/", 1)[1]
            with emu.lock:
                rec = emu.files.get(fid)
            if rec is None or rec.deleted:
                raise APIError(404, f"File not found: {fid}")
            self.respond_json(200, self.control_file_patch(rec, body or {}))
        elif re.fullmatch(r"/_emu/containers/[^/]+", p) and m in ("GET", "POST"):
            cont = emu.get_container(p.rsplit("/", 1)[1])
            if cont is None:
                raise APIError(404, "container not found")
            if m == "POST" and isinstance(body, dict) and "expired" in body:
                cont.force_expired = bool(body["expired"])
                set_answer(cont, body)          # expire.py
            self.respond_json(200, {"id": cont.id, "workdir": cont.work,
                                    "expires_at": rfc3339(cont.expires_at, frac=True),
                                    "expired": cont.expired(),
                                    "answer": getattr(cont, "expire_answer", "400")})
        else:
            raise APIError(404, f"Not found: {m} {p}")

    def control_file_create(self, body):
        if not isinstance(body, dict):
            raise APIError(400, "a JSON object is required")
        name = body.get("filename", "generated.bin")
        if not isinstance(name, str):
            raise APIError(400, "filename must be a string")
        fd, tmp = tempfile.mkstemp(prefix=".control-", dir=self.emu.files_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                if "content_b64" in body:
                    try:
                        f.write(base64.b64decode(body["content_b64"], validate=True))
                    except (ValueError, TypeError):
                        raise APIError(400, "content_b64: invalid base64")
                elif "size" in body:
                    n = body["size"]
                    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                        raise APIError(400, "size must be an integer >= 0")
                    for d in gen_bytes(n):
                        f.write(d)
            mime = body.get("mime_type") or guess_mime(name)
            rec = self.emu.add_file(tmp, name, mime, bool(body.get("downloadable", True)),
                                    None, "control", move=True)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return self.control_file_patch(rec, {k: body[k] for k in ("expired",) if k in body})

    @staticmethod
    def control_file_patch(rec, body):
        if "filename" in body:
            if not isinstance(body["filename"], str):
                raise APIError(400, "filename must be a string")
            rec.filename = body["filename"]
        if "mime_type" in body:
            rec.mime_type = str(body["mime_type"])
        if "size_bytes" in body:
            # A lie in the metadata only; the content stays as it is.
            rec.claimed_size = int(body["size_bytes"])
        if "downloadable" in body:
            rec.downloadable = bool(body["downloadable"])
        if "expired" in body:
            if body["expired"]:
                rec.force_expired = True
                rec.expires_at = time.time() - 60
            else:
                rec.force_expired = False
                rec.expires_at = None
        return rec.meta()
