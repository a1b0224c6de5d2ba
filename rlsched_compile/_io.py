"""File output shared by every writer of the package (reports, schedules, pipeline files, training
checkpoints, cache entries), and safe reading of files other people may have planted.

Three levels:

* :func:`write_bytes_atomic` / :func:`write_text_atomic`: one file, through a temporary file in the
  same folder and ``os.replace``: a reader never sees a half-written file. :func:`atomic_path`
  is the same for writers that need a file name (a copy, ``torch.save``, ``np.savez``).
* :func:`output_lock`: exclusive use of an output folder by one run, through ``fcntl.flock`` on a
  sibling lock file ``.<name>.lock`` (removed again when the run ends). A second run into a
  folder in use fails at once with :class:`OutputFolderError` instead of mixing its files in.
* :func:`staged_output_dir`: a whole run's output set, built in a sibling temporary folder
  ``.<name>.tmp-XXXX`` and swapped in by rename when complete (Linux: one atomic
  ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames), so the folder holds either the complete
  old set or the complete new set, never a mix. The old folder is removed only after the swap.
  An interruption (Ctrl-C, SIGTERM, an error) before the swap removes the temporary folder and
  leaves the old set untouched; after ``kill -9`` the temporary folder stays behind (hidden,
  beside the output folder) and the next run into that folder removes it.

Ownership (never delete a file the tool did not write): each output folder holds a manifest,
``.rlsched-manifest.json``, listing every file and folder the run wrote. Since a run replaces
the whole folder, a folder that holds anything not listed there (a file of the user's own, a
folder written by an old version without a manifest) is **refused** with a one-line message
naming the foreign files, and nothing is deleted: the user moves them or picks another ``--out``.
Refusing (rather than carrying foreign files over) also makes an accidental ``--out .`` or
``--out ~`` harmless.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterator

from .errors import RlschedError

#: File name of the manifest in every output folder.
MANIFEST_NAME = ".rlsched-manifest.json"
#: Marker file inside a staging folder while it is being built.
_STAGING_MARKER = ".rlsched-staging"
#: Largest manifest accepted (bytes); a manifest lists a few hundred names.
_MANIFEST_MAX_BYTES = 4 << 20
#: Foreign entries named in the refusal message.
_FOREIGN_SHOWN = 3


class OutputFolderError(RlschedError):
    """An output folder cannot be used: in use by another run, or holding files the tool did not write."""


class UnsafeFileError(OSError):
    """A file to read is not a regular file (a FIFO, device, symlink, folder) or is too large."""


# ---- single files --------------------------------------------------------------------------

def _file_mode() -> int:
    """Mode of an ordinary new file under the current umask (mkstemp alone would give 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def read_regular_file(path: str | os.PathLike[str], *, max_bytes: int) -> bytes:
    """Read a file only if it is a regular file of at most ``max_bytes`` bytes.

    The file is opened with ``O_NOFOLLOW | O_NONBLOCK`` (a symlink is refused, a FIFO does not
    block the open) and checked with ``fstat`` on the open descriptor, so it cannot be swapped
    for something else between the check and the read.

    Raises:
        FileNotFoundError: no such file.
        UnsafeFileError: a symlink, FIFO, device or folder, or larger than ``max_bytes``.
        OSError: any other read error.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFileError(errno.ELOOP, "a symbolic link, not a regular file", str(path)) from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFileError(errno.EINVAL, "not a regular file", str(path))
        if st.st_size > max_bytes:
            raise UnsafeFileError(errno.EFBIG, f"larger than {max_bytes} bytes", str(path))
        chunks = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise UnsafeFileError(errno.EFBIG, f"larger than {max_bytes} bytes", str(path))
        return data
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary file beside ``path`` for writers that need a file name (a copy, a library's own
    save); when the block ends normally it becomes ``path`` by ``os.replace``, with the mode of an
    ordinary new file; when it raises, it is removed and ``path`` is left as it was.

    Every file the package writes goes through here (:func:`write_bytes_atomic` included), so a
    reader never sees a half-written file.

    Yields:
        The temporary file (created empty, in ``path``'s folder).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    A regular file that already holds exactly ``data`` is left untouched (warm re-runs do not
    rewrite it); anything else at ``path`` (a FIFO, a symlink) is replaced, never read.
    """
    path = Path(path)
    try:
        if path.lstat().st_size == len(data) and read_regular_file(path, max_bytes=len(data)) == data:
            return
    except OSError:
        pass
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """UTF-8 text version of :func:`write_bytes_atomic` (newlines written as ``\\n``)."""
    write_bytes_atomic(path, text.encode("utf-8"))


# ---- the lock of an output folder ----------------------------------------------------------

#: Lock files this process holds (absolute path -> [fd, depth]): the lock is re-entrant within
#: one process (the CLI holds it for the whole run, the writer takes it again).
_HELD: dict[str, list[int]] = {}
_HELD_GUARD = threading.Lock()


def _canonical(out: str | os.PathLike[str]) -> Path:
    """``out`` with symlinks resolved, so that the lock, staging folder and swap act on the real
    folder (a symlinked output folder stays a symlink)."""
    return Path(os.path.realpath(os.fspath(out)))


def lock_path(out: str | os.PathLike[str]) -> Path:
    """The lock file of output folder ``out``: ``.<name>.lock`` beside it."""
    real = _canonical(out)
    return real.parent / f".{real.name}.lock"


def _in_use(out: str | os.PathLike[str]) -> OutputFolderError:
    return OutputFolderError(f"output directory {out} is in use by another rlsched-compile run (lock file "
                             f"{lock_path(out)}); wait for that run to finish or choose another --out")


@contextlib.contextmanager
def output_lock(out: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the exclusive lock of output folder ``out`` for the duration.

    Creates the folder's missing parents (removed again on exit if still empty). Re-entrant within
    one process. The lock file is removed on release while still locked; a run that opened it just
    before checks, once locked, that it still is the file at that path and otherwise retries.

    Raises:
        OutputFolderError: another run holds the lock.
        RlschedError: the parent folder cannot be created or written.
    """
    import fcntl

    real = _canonical(out)
    lpath = real.parent / f".{real.name}.lock"
    key = str(lpath)
    with _HELD_GUARD:
        if key in _HELD:
            _HELD[key][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _HELD_GUARD:
                _HELD[key][1] -= 1
        return
    created = _make_parents(real.parent, out)
    fd = -1
    try:
        while True:
            try:
                fd = os.open(lpath, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                             0o666)
            except OSError as exc:
                raise RlschedError(f"output directory {out}: cannot create its lock file {lpath} "
                                   f"({exc.strerror or exc}); choose another --out") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                fd = -1
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise _in_use(out) from None
                raise RlschedError(f"output directory {out}: cannot lock {lpath} ({exc.strerror or exc})") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(lpath, follow_symlinks=False).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder removed it between our open and our lock: take the new one
            fd = -1
        with _HELD_GUARD:
            _HELD[key] = [fd, 1]
        try:
            yield
        finally:
            with _HELD_GUARD:
                del _HELD[key]
            with contextlib.suppress(OSError):
                os.unlink(lpath)
            os.close(fd)
            fd = -1
    finally:
        if fd >= 0:
            os.close(fd)
        for d in reversed(created):
            with contextlib.suppress(OSError):
                d.rmdir()


def _make_parents(parent: Path, out: str | os.PathLike[str]) -> list[Path]:
    """Create ``parent`` and its missing ancestors; returns those created, outermost first."""
    missing = []
    p = parent
    while not os.path.lexists(p):
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    created = []
    for d in reversed(missing):
        try:
            d.mkdir()
            created.append(d)
        except FileExistsError:
            pass
        except OSError as exc:
            for c in reversed(created):
                with contextlib.suppress(OSError):
                    c.rmdir()
            raise RlschedError(f"output directory {out} is not writable ({d}: {exc.strerror or exc}); "
                               "choose another with --out") from None
    if not parent.is_dir():
        raise RlschedError(f"output directory {out} is not writable ({parent}: not a directory); "
                           "choose another with --out")
    return created


# ---- ownership: the manifest ---------------------------------------------------------------

def _read_manifest(folder: Path) -> tuple[set[str], set[str]] | None:
    """Files and folders listed in ``folder``'s manifest, or None when it has no valid one."""
    try:
        doc = json.loads(read_regular_file(folder / MANIFEST_NAME, max_bytes=_MANIFEST_MAX_BYTES))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("tool") != "rlsched_compile" or doc.get("format") != 1:
        return None
    lists = []
    for k in ("files", "folders"):
        names = doc.get(k)
        if not isinstance(names, list) or not all(isinstance(n, str) and _is_plain_relative(n) for n in names):
            return None
        lists.append(set(names))
    return lists[0], lists[1]


def _is_plain_relative(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(p not in ("", ".", "..") for p in parts) \
        and "\\" not in name and "\0" not in name


def _entries(folder: Path) -> tuple[list[str], list[str]]:
    """Relative paths (``/``-separated) of every non-folder entry and every sub-folder below
    ``folder``, without following symlinks; sorted."""
    files, folders = [], []
    for root, dirs, names in os.walk(folder, followlinks=False):
        rel_root = os.path.relpath(root, folder)
        for d in list(dirs):
            rel = d if rel_root == "." else f"{rel_root}/{d}"
            if os.path.islink(os.path.join(root, d)):
                files.append(rel.replace(os.sep, "/"))  # a symlink to a folder: an entry, not walked
                dirs.remove(d)
            else:
                folders.append(rel.replace(os.sep, "/"))
        for n in names:
            rel = n if rel_root == "." else f"{rel_root}/{n}"
            files.append(rel.replace(os.sep, "/"))
    return sorted(files), sorted(folders)


def foreign_entries(out: str | os.PathLike[str]) -> list[str]:
    """Entries of output folder ``out`` that its manifest does not list (empty when ``out`` does
    not exist or holds only what an earlier run wrote).

    Raises:
        OutputFolderError: ``out`` exists and is not a folder.
    """
    real = _canonical(out)
    if not os.path.lexists(real):
        return []
    if not real.is_dir():
        raise OutputFolderError(f"output directory {out} is a file, not a folder; choose another --out")
    files, folders = _entries(real)
    listed = _read_manifest(real)
    own_files, own_folders = listed if listed is not None else (set(), set())
    everything = files + folders
    # An unlisted folder is named only when empty: otherwise the foreign entries in it are.
    return [f for f in files if f not in own_files and f != MANIFEST_NAME] + \
           [f"{d}/" for d in folders if d not in own_folders and not any(e.startswith(f"{d}/") for e in everything)]


def check_replaceable(out: str | os.PathLike[str]) -> None:
    """Refuse (before any work) an output folder holding files the tool did not write.

    Raises:
        OutputFolderError: naming the first few foreign entries.
    """
    foreign = foreign_entries(out)
    if foreign:
        shown = ", ".join(foreign[:_FOREIGN_SHOWN]) + (f" and {len(foreign) - _FOREIGN_SHOWN} more"
                                                       if len(foreign) > _FOREIGN_SHOWN else "")
        raise OutputFolderError(f"output directory {out} holds {len(foreign)} file(s) rlsched-compile did not "
                                f"write ({shown}); a run replaces the whole folder, so move them away or "
                                "choose another --out")


def _write_manifest(folder: Path) -> None:
    files, folders = _entries(folder)
    files = [f for f in files if f not in (MANIFEST_NAME, _STAGING_MARKER)]
    doc = {"tool": "rlsched_compile", "format": 1,
           "note": "files and folders written by rlsched-compile; a later run replaces only these",
           "files": files, "folders": folders}
    write_text_atomic(folder / MANIFEST_NAME, json.dumps(doc, indent=1) + "\n")


# ---- the staged, swapped output set --------------------------------------------------------

def _stale_staging(real: Path) -> list[Path]:
    """Staging folders of earlier runs into ``real`` that were killed before cleaning up."""
    prefix_tmp, prefix_old = f".{real.name}.tmp-", f".{real.name}.old-"
    stale = []
    try:
        names = os.listdir(real.parent)
    except OSError:
        return []
    for n in names:
        if not (n.startswith(prefix_tmp) or n.startswith(prefix_old)):
            continue
        p = real.parent / n
        if p.is_symlink() or not p.is_dir():
            continue
        if (p / _STAGING_MARKER).is_file() or _read_manifest(p) is not None:
            stale.append(p)
        else:  # killed between creating it and marking it: removed only if empty (rmdir checks)
            with contextlib.suppress(OSError):
                p.rmdir()
    return stale


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (Linux ``renameat2(RENAME_EXCHANGE)``); False when the
    platform or file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _folder_mode(real: Path) -> int:
    try:
        return stat.S_IMODE(real.stat().st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o777 & ~mask


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold SIGINT/SIGTERM until the block ends (so a swap and its clean-up are never cut short)."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def staged_output_dir(out: str | os.PathLike[str]) -> Iterator[Path]:
    """Build a run's output set in a sibling temporary folder, then swap it in as ``out``.

    Write every output below the yielded folder. When the block ends normally, a manifest of
    what was written is added and the folder replaces ``out`` in one step; the previous ``out`` is
    removed after the swap. When the block raises (including KeyboardInterrupt), the temporary
    folder is removed and ``out`` is untouched. Holds :func:`output_lock` throughout.

    Raises:
        OutputFolderError: ``out`` is in use by another run, or holds files the tool did not write.
        RlschedError: the temporary folder cannot be created.
        OSError: writing or swapping failed (``out`` is then untouched).
    """
    real = _canonical(out)
    with output_lock(out):
        check_replaceable(out)
        for p in _stale_staging(real):
            shutil.rmtree(p, ignore_errors=True)
        stage: Path | None = None
        try:
            # SIGINT/SIGTERM raise wherever Python happens to be (a signal mask does not stop that
            # when another thread takes the signal): the folder is named before it is made, so an
            # interrupt at any point finds the clean-up below knowing of it
            for candidate in _staging_names(real):
                stage = candidate  # named first: made below
                try:
                    os.mkdir(stage, 0o700)
                    break
                except FileExistsError:  # not ours (a stale one would have been removed above)
                    stage = None
                except OSError as exc:
                    stage = None
                    raise RlschedError(f"output directory {out} is not writable ({exc.strerror or exc}); "
                                       "choose another with --out") from None
            if stage is None:
                raise RlschedError(f"output directory {out}: no free name for a staging folder beside it; "
                                   f"remove the .{real.name}.tmp-* folders there")
            (stage / _STAGING_MARKER).touch()
            yield stage
            _write_manifest(stage)
            os.chmod(stage, _folder_mode(real))
            with _signals_blocked():
                (stage / _STAGING_MARKER).unlink()
                _swap_in(stage, real)
                shutil.rmtree(stage, ignore_errors=True)  # now the old set (or already gone)
        except BaseException:
            if stage is not None:
                shutil.rmtree(stage, ignore_errors=True)
            raise


def _staging_names(real: Path, tries: int = 100) -> Iterator[Path]:
    """Candidate staging folders ``.<name>.tmp-XXXXXXXX`` beside ``real`` (mkdtemp's random names)."""
    names = tempfile._get_candidate_names()
    for _ in range(tries):
        yield real.parent / f".{real.name}.tmp-{next(names)}"


def _swap_in(stage: Path, real: Path) -> None:
    """Make ``stage`` the folder ``real``; afterwards ``stage`` is the old folder or absent."""
    if not os.path.lexists(real):
        os.rename(stage, real)
        return
    if _exchange(stage, real):
        return
    old = Path(tempfile.mkdtemp(prefix=f".{real.name}.old-", dir=real.parent))
    os.rmdir(old)
    os.rename(real, old)
    try:
        os.rename(stage, real)
    except BaseException:
        os.rename(old, real)
        raise
    shutil.rmtree(old, ignore_errors=True)

