"""The reference for the start-up target: a minimal typer app with one command (typer imports pydantic).

``provenance verify`` of the reference record is timed against ``python bench/minimal_app.py hello`` in
the same run, by the same interpreter of the same virtual environment.
"""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False)


@app.command()
def hello(name: str = "archive") -> None:
    """Greet, and nothing else."""
    print(f"hello {name}")


if __name__ == "__main__":
    app()
