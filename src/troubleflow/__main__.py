"""`python -m troubleflow` runs the CLI."""

from troubleflow.cli import main

main()
