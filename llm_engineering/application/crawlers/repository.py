"""Code repositories: a shallow clone, then every hand-written text file kept exactly as written."""

import os
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

from loguru import logger

from llm_engineering.domain.crawling import RepositoryCloner
from llm_engineering.domain.documents import RepositoryDocument, UserDocument
from llm_engineering.domain.exceptions import CrawlError

SKIPPED_DIRECTORIES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        "vendor",
        "vendors",
        "third_party",
        "third-party",
        "external",
        ".venv",
        "venv",
        "site-packages",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".ipynb_checkpoints",
        "dist",
        "build",
        "target",
        ".next",
        ".idea",
        ".vscode",
        ".eggs",
    }
)
LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "poetry.lock",
        "pdm.lock",
        "uv.lock",
        "pipfile.lock",
        "cargo.lock",
        "gemfile.lock",
        "composer.lock",
        "go.sum",
        "flake.lock",
        "mix.lock",
        "pubspec.lock",
        "packages.lock.json",
    }
)
GENERATED_NAMES = (
    "*.min.js",
    "*.min.css",
    "*.map",
    "*_pb2.py",
    "*_pb2_grpc.py",
    "*.pb.go",
    "*.generated.*",
    "*.lock",
    "*.egg-info",
)
_IMAGES_AND_DOCUMENTS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tiff", ".psd", ".pdf")
_ARCHIVES = (".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".jar", ".war", ".whl")
_COMPILED = (".exe", ".dll", ".so", ".dylib", ".a", ".o", ".obj", ".class", ".pyc", ".pyo", ".bin")
_DATA = (".dat", ".db", ".sqlite", ".parquet", ".feather", ".arrow", ".npy", ".npz", ".pkl", ".pickle")
_MODELS = (".pt", ".pth", ".onnx", ".h5", ".ckpt", ".safetensors", ".gguf")
_MEDIA_AND_FONTS = (".mp3", ".mp4", ".wav", ".ogg", ".mov", ".avi", ".woff", ".woff2", ".ttf", ".otf", ".eot")
BINARY_SUFFIXES = frozenset((*_IMAGES_AND_DOCUMENTS, *_ARCHIVES, *_COMPILED, *_DATA, *_MODELS, *_MEDIA_AND_FONTS))


def repository_name(link: str) -> str:
    """The repository's name: the last segment of its link, without a ".git" suffix."""
    segments = [segment for segment in urlsplit(link).path.split("/") if segment]
    if not segments:
        raise CrawlError(f"{link} names no repository; give it as https://github.com/OWNER/REPOSITORY")
    return segments[-1].removesuffix(".git")


def read_repository_files(root: Path, *, max_file_bytes: int, max_total_bytes: int) -> dict[str, str]:
    """{posix path: exact text} of the hand-written text files under root, sorted by path."""
    files: dict[str, str] = {}
    total = 0
    for directory, subdirectories, names in os.walk(root):
        # Pruning in place keeps os.walk out of vendored and generated trees; symlinks are never followed.
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if name.lower() not in SKIPPED_DIRECTORIES and not (Path(directory) / name).is_symlink()
        )
        for name in sorted(names):
            path = Path(directory) / name
            relative = path.relative_to(root).as_posix()
            text = _hand_written_text(path, max_file_bytes)
            if text is None:
                continue
            total += len(text.encode("utf-8"))
            if total > max_total_bytes:
                raise CrawlError(
                    f"the repository holds more than {max_total_bytes} bytes of text; "
                    "raise max_repository_bytes to crawl it"
                )
            files[relative] = text
    return dict(sorted(files.items()))


def _hand_written_text(path: Path, max_file_bytes: int) -> str | None:
    lower = path.name.lower()
    if path.is_symlink() or not path.is_file() or lower in LOCK_FILES or path.suffix.lower() in BINARY_SUFFIXES:
        return None
    if any(fnmatch(lower, pattern) for pattern in GENERATED_NAMES):
        return None
    size = path.stat().st_size
    if size > max_file_bytes:
        logger.debug("Skipping {} ({} bytes, over the {}-byte cap).", path.name, size, max_file_bytes)
        return None
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        logger.debug("Skipping {}: not UTF-8 text.", path.name)
        return None
    # Code generators mark their output at the top: "@generated", or Go's "Code generated ... DO NOT EDIT.".
    head = text[:1024].lower()
    if "@generated" in head or ("generated" in head and "do not edit" in head):
        return None
    return text


class RepositoryCrawler:
    """Clones a repository (shallow, into a temporary directory) and stores {path: text} of its files."""

    def __init__(
        self,
        cloner: RepositoryCloner,
        *,
        platform: str,
        max_file_bytes: int,
        max_repository_bytes: int,
    ) -> None:
        self._cloner = cloner
        self._platform = platform
        self._max_file_bytes = max_file_bytes
        self._max_repository_bytes = max_repository_bytes

    @property
    def platform(self) -> str:
        """The platform its documents are stored under."""
        return self._platform

    def crawl(self, link: str, author: UserDocument) -> list[RepositoryDocument]:
        """One repository document with the text of every kept file."""
        name = repository_name(link)
        with self._cloner.clone(link) as root:
            files = read_repository_files(
                root, max_file_bytes=self._max_file_bytes, max_total_bytes=self._max_repository_bytes
            )
        if not files:
            raise CrawlError(f"{link} has no text file to keep (all binary, vendored, generated or too large)")
        return [RepositoryDocument.create(author=author, platform=self._platform, link=link, content=files, name=name)]
