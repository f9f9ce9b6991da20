"""The warehouse's JSON files in a local folder (the `WarehouseFiles` port)."""

from pathlib import Path

from llm_engineering.domain.exceptions import InvalidDocumentError


class FolderFiles:
    """Files directly in one folder; writing creates the folder (and its parents) when it is missing."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def location(self) -> str:
        """The folder as given."""
        return str(self.root)

    def describe(self, name: str) -> str:
        """The file's path."""
        return str(self.root / name)

    def names(self) -> set[str]:
        """The names of the folder's entries; an error when it is not a folder."""
        if not self.root.is_dir():
            raise InvalidDocumentError(f"{self.root} is not a directory; give the folder that holds the JSON files.")
        return {entry.name for entry in self.root.iterdir()}

    def read_text(self, name: str) -> str:
        """The file's text (UTF-8)."""
        return (self.root / name).read_text(encoding="utf-8")

    def write_text(self, name: str, text: str) -> None:
        """Write the file (UTF-8), creating the folder first when needed."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / name).write_text(text, encoding="utf-8")
