"""`python -m tools` is `llm-twin`."""

from tools.cli import main

main()
