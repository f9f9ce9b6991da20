"""Pure domain model: pydantic types, identities, exceptions and ports. No I/O lives here."""
