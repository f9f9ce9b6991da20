"""A step every data pipeline starts with: turn author names into warehouse ids."""

from typing import Annotated

from zenml import step

from llm_engineering.domain.exceptions import InvalidDocumentError
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.zenml_settings import settings_for_step
from steps.metadata import record_metadata


@step
def resolve_authors(author_full_names: list[str]) -> Annotated[list[str], "author_ids"]:
    """Ids of the named authors (all authors when the list is empty); an unknown name fails the run."""
    warehouse = MongoDataWarehouse.from_settings(settings_for_step())
    if not author_full_names:
        users = warehouse.list_users()
    else:
        found = {name: warehouse.find_user(name) for name in author_full_names}
        missing = [name for name, user in found.items() if user is None]
        if missing:
            raise InvalidDocumentError(
                f"No author named {', '.join(missing)} in the warehouse. Run the ETL (or the import) for them first."
            )
        users = [user for user in found.values() if user is not None]
    record_metadata({"authors": [user.full_name for user in users]})
    return [str(user.id) for user in users]
