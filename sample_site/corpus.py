"""The sample corpus (data/sample) read and checked into the articles, posts and repositories the site serves."""

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar
from urllib.parse import urlsplit

DEFAULT_DATA_DIR = Path("data/sample")
GITHUB_PREFIX = "https://github.com/"
_Parsed = TypeVar("_Parsed")
# A LinkedIn post link: /posts/HANDLE_some-words-activity-1234567890123456789-AbCd.
_LINKEDIN_POST = re.compile(r"/posts/(?P<handle>[^/_]+)_[^/]*?activity-(?P<activity>\d+)")


@dataclass(frozen=True)
class SampleArticle:
    """An article of the corpus and where the site serves it."""

    link: str
    author: str
    platform: str
    handle: str
    slug: str
    title: str
    subtitle: str
    markdown: str
    published: datetime

    @property
    def path(self) -> str:
        """The page's path on the site: /medium/@HANDLE/SLUG, /substack/HANDLE/p/SLUG or /blog/HANDLE/SLUG."""
        if self.platform == "medium":
            return f"/medium/@{self.handle}/{self.slug}"
        if self.platform == "substack":
            return f"/substack/{self.handle}/p/{self.slug}"
        return f"/blog/{self.handle}/{self.slug}"


@dataclass(frozen=True)
class SamplePost:
    """A LinkedIn post of the corpus."""

    link: str
    author: str
    handle: str
    activity_id: str
    text: str
    image: str | None
    published: datetime

    @property
    def urn(self) -> str:
        return f"urn:li:activity:{self.activity_id}"

    @property
    def path(self) -> str:
        """The post's own page, the link the crawler stores for it."""
        return f"/linkedin/feed/update/{self.urn}/"


@dataclass(frozen=True)
class SampleRepository:
    """A code repository of the corpus: its GitHub link and {path: exact text} of its files."""

    link: str
    author: str
    name: str
    files: Mapping[str, str]
    committed: datetime

    @property
    def mirror_path(self) -> str:
        """OWNER/REPO as the link spells it: where a git mirror holds it (git_mirrors rewrites the link's prefix)."""
        return "/".join(_segments(self.link))


@dataclass(frozen=True)
class SampleCorpus:
    """users.json, articles.json, posts.json and repositories.json of a data directory, checked."""

    authors: tuple[str, ...]
    articles: tuple[SampleArticle, ...]
    posts: tuple[SamplePost, ...]
    repositories: tuple[SampleRepository, ...]

    @classmethod
    def load(cls, directory: Path) -> "SampleCorpus":
        """Read and check the corpus; raises ValueError naming the file and record that cannot be served."""
        authors = list(_parsed(directory / "users.json", _user_name))
        articles = _parsed(directory / "articles.json", _article)
        posts = _parsed(directory / "posts.json", _post)
        repositories = _parsed(directory / "repositories.json", _repository)
        documents: list[SampleArticle | SamplePost | SampleRepository] = [*articles, *posts, *repositories]
        for author in (document.author for document in documents):
            if author not in authors:
                authors.append(author)
        _check_unique("articles.json", [article.path for article in articles])
        _check_unique("posts.json", [post.activity_id for post in posts])
        _check_unique("repositories.json", [repository.mirror_path for repository in repositories])
        return cls(tuple(authors), articles, posts, repositories)


def _read_records(path: Path) -> list[dict[str, Any]]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ValueError(f"{path} is missing; point the sample site at a folder like data/sample") from error
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise ValueError(f"{path} must hold a JSON list of objects")
    return records


def _parsed(path: Path, parse: Callable[[Mapping[str, Any]], _Parsed]) -> tuple[_Parsed, ...]:
    parsed: list[_Parsed] = []
    for index, record in enumerate(_read_records(path)):
        try:
            parsed.append(parse(record))
        except (KeyError, TypeError, AttributeError) as error:
            where = record.get("link") or f"record {index}"
            raise ValueError(f"{path.name}: {where} lacks a field or has one of the wrong type ({error!r})") from error
    return tuple(parsed)


def _name(full_name: object) -> str:
    return " ".join(str(full_name).split())


def _user_name(record: Mapping[str, Any]) -> str:
    return _name(f"{record['first_name']} {record.get('last_name') or ''}")


def _timestamp(record: Mapping[str, Any]) -> datetime:
    raw = record.get("updated_at") or record.get("created_at")
    if not isinstance(raw, str):
        return datetime(2024, 1, 1, tzinfo=UTC)
    value = datetime.fromisoformat(raw)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _segments(link: str) -> list[str]:
    return [segment for segment in urlsplit(link).path.split("/") if segment]


def _article(record: Mapping[str, Any]) -> SampleArticle:
    link, platform, content = str(record["link"]), str(record["platform"]), record["content"]
    host, segments = (urlsplit(link).hostname or "").removeprefix("www."), _segments(link)
    if not segments:
        raise ValueError(f"articles.json: {link} has no path to take the article's slug from")
    if platform == "medium" and segments[0].startswith("@"):
        handle = segments[0].removeprefix("@")
    elif platform == "substack" and host.endswith(".substack.com"):
        handle = host.removesuffix(".substack.com")
    elif platform == "blog" and host:
        handle = host.split(".")[0]
    else:
        raise ValueError(
            f"articles.json: cannot serve {link} (platform {platform!r}); the site serves medium.com/@HANDLE/..., "
            "HANDLE.substack.com/p/... and blog links"
        )
    return SampleArticle(
        link=link,
        author=_name(record["author_full_name"]),
        platform=platform,
        handle=handle,
        slug=segments[-1],
        title=str(content["title"]),
        subtitle=str(content.get("subtitle") or ""),
        markdown=str(content["content"]),
        published=_timestamp(record),
    )


def _post(record: Mapping[str, Any]) -> SamplePost:
    link = str(record["link"])
    match = _LINKEDIN_POST.search(urlsplit(link).path)
    if record.get("platform") != "linkedin" or match is None:
        raise ValueError(
            f"posts.json: cannot serve {link}; the site serves LinkedIn posts linked as "
            "https://www.linkedin.com/posts/HANDLE_words-activity-NUMBER-xxxx"
        )
    image = record.get("image")
    return SamplePost(
        link=link,
        author=_name(record["author_full_name"]),
        handle=match.group("handle"),
        activity_id=match.group("activity"),
        text=str(record["content"]["text"]),
        image=str(image) if image else None,
        published=_timestamp(record),
    )


def _repository(record: Mapping[str, Any]) -> SampleRepository:
    link = str(record["link"])
    segments = _segments(link)
    if not link.startswith(GITHUB_PREFIX) or len(segments) != 2:
        raise ValueError(f"repositories.json: {link} is not a https://github.com/OWNER/REPOSITORY link")
    files = {str(path): str(text) for path, text in record["content"].items()}
    for path in files:
        parts = PurePosixPath(path).parts
        if not parts or PurePosixPath(path).is_absolute() or {"..", ".git"} & set(parts) or "\\" in path:
            raise ValueError(f"repositories.json: {link} has a file path {path!r} that cannot be written safely")
    return SampleRepository(
        link=link,
        author=_name(record["author_full_name"]),
        name=segments[1].removesuffix(".git"),
        files=files,
        committed=_timestamp(record),
    )


def _check_unique(source: str, keys: list[str]) -> None:
    duplicates = sorted(key for key, count in Counter(keys).items() if count > 1)
    if duplicates:
        raise ValueError(f"{source}: two records would be served at the same place: {', '.join(duplicates)}")
