"""The Skills API: custom skills made from uploaded directories (streamed
multipart, one files[] part per file, names keeping their directory),
their versions, listing with cursor pages, deletion; the checks a
Messages request's container.skills gets; and mounting a custom
skill's files in a container.  A zip of the directory may come instead,
as the one part: unpacked and held to the same rules.
"""

import base64
import os
import re
import shutil
import stat
import tempfile
import threading
import time
import zipfile
import zlib

from .errors import APIError
from .files import int_param
from .tables import ANTHROPIC_SKILLS
from .wire import FileSink, MemSink, MultipartError, Sink, new_id, rfc3339

SKILL_MAX = 30_000_000          # the whole upload, uncompressed
LEGACY_BETA = "skills-2025-10-02"
NAME_RE = re.compile(r"[a-z0-9-]{1,64}")
RESERVED = ("anthropic", "claude")
ANTHROPIC_CREATED = "2025-10-13T00:00:00Z"


class Version:
    def __init__(self, skill_id, name, description, path):
        self.id = new_id("skver_")
        self.skill_id = skill_id
        self.name = name
        self.description = description
        self.path = path                # the files, under path/NAME/
        self.created = time.time()
        self.deleted = False

    def obj(self):
        return {"type": "skill_version", "id": self.id, "skill_id": self.skill_id,
                "name": self.name, "description": self.description,
                "created_at": rfc3339(self.created)}


class Skill:
    def __init__(self, display_name):
        self.id = new_id("skill_")
        self.display_name = display_name
        self.created = self.updated = time.time()
        self.versions = []              # oldest first, deleted ones too
        self.deleted = False

    def live(self):
        return [v for v in self.versions if not v.deleted]

    def latest(self):
        lv = self.live()
        return lv[-1] if lv else None

    def obj(self):
        lt = self.latest()
        return {"type": "skill", "id": self.id, "display_name": self.display_name,
                "latest_version_id": lt.id if lt else None,
                "source": {"type": "custom"}, "created_at": rfc3339(self.created),
                "updated_at": rfc3339(self.updated)}


def anthropic_obj(sid):
    return {"type": "skill", "id": sid, "display_name": sid.upper(),
            "latest_version_id": "20251013", "source": {"type": "anthropic"},
            "created_at": ANTHROPIC_CREATED, "updated_at": ANTHROPIC_CREATED}


class Store:
    """The emulator's skills, kept beside its files (state/skills/)."""

    def __init__(self, root):
        self.root = root
        self.skills = {}
        self.order = []                 # ids, oldest first
        self.lock = threading.Lock()
        os.makedirs(root, exist_ok=True)

    def get(self, sid):
        with self.lock:
            s = self.skills.get(sid)
        return s if s is not None and not s.deleted else None


def store(emu):
    with emu.lock:
        if getattr(emu, "skill_store", None) is None:
            emu.skill_store = Store(os.path.join(emu.state, "skills"))
        return emu.skill_store


def skill_routes(h, p):
    m = re.fullmatch(r"/v1/skills(?:/([^/]+)(?:/versions(?:/([^/]+))?)?)?", p)
    if m is None:
        raise APIError(404, f"Not found: {h.command} {p}")
    sid, ver = m.group(1), m.group(2)
    versions = p.startswith(f"/v1/skills/{sid}/versions") if sid else False
    if sid is None:
        return {"POST": lambda: create(h, None), "GET": lambda: list_skills(h)}
    if not versions:
        return {"GET": lambda: h.respond_json(200, skill_or_404(h, sid, True)),
                "DELETE": lambda: delete_skill(h, sid)}
    if ver is None:
        return {"POST": lambda: create(h, sid), "GET": lambda: list_versions(h, sid)}
    return {"GET": lambda: h.respond_json(200, version_or_404(h, sid, ver).obj()),
            "DELETE": lambda: delete_version(h, sid, ver)}


def skill_or_404(h, sid, as_obj=False):
    if as_obj and sid in ANTHROPIC_SKILLS:
        return anthropic_obj(sid)
    s = store(h.emu).get(sid)
    if s is None:
        raise APIError(404, f"Skill not found: {sid}")
    return s.obj() if as_obj else s


def version_or_404(h, sid, ver):
    s = skill_or_404(h, sid)
    for v in s.live():
        if v.id == ver:
            return v
    raise APIError(404, f"Skill version not found: {sid} {ver}")


# Creating: the multipart body, checked as the API checks it -------------------
def bad_path(name):
    """Why a part's file name cannot be a path in a skill, or None."""
    if not name:
        return "a files[] part without a filename"
    if "\\" in name or "\0" in name or name.startswith("/"):
        return f"invalid file path: {name}"
    parts = name.split("/")
    if len(parts) < 2:
        return f"{name}: all files must be in one top-level directory"
    if any(x in ("", ".", "..") for x in parts):
        return f"invalid file path: {name}"
    return None


def is_zip_part(fn):
    """One zip of the skill's directory, sent as a single part."""
    return "/" not in fn and fn.lower().endswith(".zip")


def unzip(path, tmp):
    """The zip's files into tmp under the same rules as parts; their names."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise APIError(400, f"invalid zip file: {e}")
    with zf:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > SKILL_MAX:
            raise APIError(413, f"Skill too large: the total upload limit is {SKILL_MAX} "
                                "bytes uncompressed")
        names = []
        for i in infos:
            mode = i.external_attr >> 16
            if i.create_system == 3 and stat.S_IFMT(mode) and \
                    not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise APIError(400, f"{i.filename}: symbolic links and special files "
                                    "are not allowed")
            if i.filename.endswith("/"):
                why = bad_path(i.filename.rstrip("/") + "/x")
                if why is not None:
                    raise APIError(400, f"invalid file path: {i.filename}")
                continue
            why = bad_path(i.filename)
            if why is not None:
                raise APIError(400, why)
            if i.filename in names:
                raise APIError(400, f"{i.filename}: the same file twice")
            names.append(i.filename)
            dst = os.path.join(tmp, *i.filename.split("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            try:
                with zf.open(i) as src, open(dst, "wb") as out:
                    shutil.copyfileobj(src, out)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error) as e:
                raise APIError(400, f"invalid zip file: {i.filename}: {e}")
    os.unlink(path)
    if not names:
        raise APIError(400, "files: at least one file is required")
    return names


def frontmatter(text):
    """{key: value} of SKILL.md's YAML frontmatter (plain key: value lines)."""
    if not text.startswith("---\n") and not text.startswith("---\r\n"):
        raise APIError(400, "SKILL.md must start with YAML frontmatter (---)")
    lines = text.splitlines()
    out = {}
    for ln in lines[1:]:
        if ln.strip() == "---":
            return out
        k, sep, v = ln.partition(":")
        if sep and k and not k[0].isspace():
            v = v.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
                v = v[1:-1]
            out[k.strip()] = v
    raise APIError(400, "SKILL.md: the YAML frontmatter is not closed (---)")


def check_meta(fm):
    name, desc = fm.get("name"), fm.get("description")
    if not name:
        raise APIError(400, "SKILL.md: frontmatter name is required")
    if not NAME_RE.fullmatch(name):
        raise APIError(400, f"SKILL.md: name {name!r} must be at most 64 lowercase letters, "
                            "digits and hyphens")
    if any(w in name for w in RESERVED):
        raise APIError(400, f"SKILL.md: name {name!r} must not contain a reserved word "
                            "(anthropic, claude)")
    if not desc:
        raise APIError(400, "SKILL.md: frontmatter description is required")
    if len(desc) > 1024:
        raise APIError(400, "SKILL.md: description must be at most 1024 characters")
    if re.search(r"<[^>]*>", desc):
        raise APIError(400, "SKILL.md: description must not contain XML tags")
    return name, desc


def norm(s):
    return s.lower().replace("_", "-")


def read_parts(h, tmp):
    """Stream the files[] parts into tmp; returns (names, display_name)."""
    got = {"names": [], "bad": None, "dup": False, "total": 0, "fields": {}}

    def sink_for(info):
        if info["name"] == "files[]":
            fn = info["filename"]
            if is_zip_part(fn):
                got["names"].append(fn)
                return FileSink(os.path.join(tmp, ".zip"), SKILL_MAX)
            why = bad_path(fn)
            if why is not None or fn in got["names"]:
                got["bad"] = got["bad"] or why or f"{fn}: the same file twice"
                return Sink()
            got["names"].append(fn)
            dst = os.path.join(tmp, *fn.split("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            return FileSink(dst, SKILL_MAX)
        if info["name"] in ("display_name",):
            s = MemSink(1024)
            got["fields"][info["name"]] = s
            return s
        return Sink()

    try:
        parts = h.consume_multipart(sink_for)
    except MultipartError as e:
        raise APIError(400, f"Malformed multipart body: {e}")
    total = sum(p["size"] for p in parts if p["name"] == "files[]")
    if total > SKILL_MAX:
        raise APIError(413, f"Skill too large: the total upload limit is {SKILL_MAX} bytes")
    if got["bad"]:
        raise APIError(400, got["bad"])
    if not got["names"]:
        raise APIError(400, "files: at least one file is required")
    dn = got["fields"].get("display_name")
    return got["names"], (bytes(dn.buf).decode("utf-8", "replace") if dn else None)


def create(h, sid):
    """POST /v1/skills (sid None) or /v1/skills/{sid}/versions."""
    if h.boundary is None:
        h.finish_request_body()
        raise APIError(400, "Content-Type must be multipart/form-data with a boundary")
    st = store(h.emu)
    skill = None
    if sid is not None:
        skill = st.get(sid)
        if skill is None:
            h.finish_request_body()
            raise APIError(404, f"Skill not found: {sid}")
    tmp = tempfile.mkdtemp(prefix=".upload-", dir=st.root)
    try:
        names, display = read_parts(h, tmp)
        if len(names) > 1 and any(is_zip_part(n) for n in names):
            raise APIError(400, "a zip must be the only file")
        if is_zip_part(names[0]):
            names = unzip(os.path.join(tmp, ".zip"), tmp)
        roots = {n.split("/")[0] for n in names}
        if len(roots) != 1:
            raise APIError(400, "All files must be in the same top-level directory")
        root = roots.pop()
        md = os.path.join(tmp, root, "SKILL.md")
        if f"{root}/SKILL.md" not in names:
            raise APIError(400, "SKILL.md file must be at the root of the top-level directory")
        with open(md, "rb") as f:
            text = f.read(1 << 20).decode("utf-8", "replace")
        name, desc = check_meta(frontmatter(text))
        if norm(root) != norm(name):
            raise APIError(400, f"the top-level directory {root!r} must match the "
                                f"SKILL.md name {name!r}")
        if display is not None and (len(display) > 255 or "\n" in display):
            raise APIError(400, "display_name: at most 255 characters on one line")
        if skill is not None and skill.latest() and skill.latest().name != name:
            raise APIError(400, f"SKILL.md name {name!r} differs from the skill's "
                                f"name {skill.latest().name!r}")
        new = skill is None
        if new:
            skill = Skill(display or name)
        ver = Version(skill.id, name, desc, None)
        ver.path = os.path.join(st.root, skill.id, ver.id)
        os.makedirs(os.path.dirname(ver.path), exist_ok=True)
        os.replace(os.path.join(tmp, root), os.path.join(tmp, name))
        os.replace(tmp, ver.path)
        with st.lock:
            skill.versions.append(ver)
            skill.updated = time.time()
            if new:
                st.skills[skill.id] = skill
                st.order.append(skill.id)
        h.respond_json(200, skill.obj() if new else ver.obj())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# Listing: {data, next_page} with opaque cursors ---------------------------------
def cursor_of(i):
    return "page_" + base64.urlsafe_b64encode(str(i).encode()).decode().rstrip("=")


def page_of(h, items, maxlimit=100):
    q = h.query
    lim = q.get("limit")
    limit = int_param("limit", lim[-1], 1, maxlimit,
                      f"Input should be between 1 and {maxlimit}") if lim else 20
    start = 0
    pg = q.get("page")
    if pg and pg[-1]:
        s = pg[-1][5:] if pg[-1].startswith("page_") else "!"
        try:
            start = int(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode())
        except (ValueError, UnicodeDecodeError):
            raise APIError(400, "page: invalid cursor")
    data = items[start:start + limit]
    nxt = cursor_of(start + limit) if start + limit < len(items) else None
    h.respond_json(200, {"data": data, "next_page": nxt})


def list_skills(h):
    src = (h.query.get("source") or [None])[-1]
    if src not in (None, "custom", "anthropic"):
        raise APIError(400, "source: Input should be 'custom' or 'anthropic'")
    st = store(h.emu)
    items = []
    if src in (None, "custom"):
        with st.lock:
            items = [st.skills[i].obj() for i in reversed(st.order)
                     if not st.skills[i].deleted]
    if src in (None, "anthropic"):
        items += [anthropic_obj(s) for s in ANTHROPIC_SKILLS]
    page_of(h, items)


def list_versions(h, sid):
    s = skill_or_404(h, sid)
    page_of(h, [v.obj() for v in reversed(s.live())], 1000)


# Deleting --------------------------------------------------------------------------
def delete_skill(h, sid):
    s = skill_or_404(h, sid)
    # The beta-era API refused while versions existed; GA deletes them all.
    if LEGACY_BETA in h.betas() and s.live():
        raise APIError(400, f"Cannot delete skill {sid}: delete its versions first")
    with store(h.emu).lock:
        s.deleted = True
        for v in s.versions:
            v.deleted = True
    shutil.rmtree(os.path.join(store(h.emu).root, sid), ignore_errors=True)
    h.respond_json(200, {"id": sid, "type": "skill_deleted"})


def delete_version(h, sid, ver):
    v = version_or_404(h, sid, ver)
    with store(h.emu).lock:
        v.deleted = True
    shutil.rmtree(v.path, ignore_errors=True)
    h.respond_json(200, {"id": ver, "type": "skill_version_deleted"})


# Messages: container.skills -----------------------------------------------------
def check_custom(emu, where, sk):
    """A custom skill a request names must exist, at a version it has."""
    s = store(emu).get(sk["skill_id"])
    if s is None:
        raise APIError(404, f"{where}.skill_id: skill {sk['skill_id']} not found")
    v = sk.get("version")
    if v not in (None, "latest") and all(x.id != v for x in s.live()):
        raise APIError(404, f"{where}.version: version {v} of skill "
                            f"{sk['skill_id']} not found")
    if s.latest() is None:
        raise APIError(404, f"{where}.skill_id: skill {sk['skill_id']} has no version")


def resolve(emu, sk):
    """A request's skill as the response names it, "latest" resolved."""
    v = sk.get("version") or "latest"
    if sk["type"] == "anthropic":
        return {"skill_id": sk["skill_id"], "type": "anthropic",
                "version": "20251013" if v == "latest" else v}
    s = store(emu).get(sk["skill_id"])
    if v == "latest":
        v = s.latest().id
    return {"skill_id": sk["skill_id"], "type": "custom", "version": v}


def mount(emu, cont, skills):
    """Copy each custom skill's files to the container's skills/NAME/
    (what the API mounts at /skills/NAME/); returns the resolved list."""
    out = [resolve(emu, sk) for sk in skills]
    for r in out:
        if r["type"] != "custom":
            continue
        s = store(emu).get(r["skill_id"])
        v = next(x for x in s.live() if x.id == r["version"])
        dst = os.path.join(cont.root, "skills", v.name)
        with cont.lock:
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(os.path.join(v.path, v.name), dst, symlinks=True)
    return out
