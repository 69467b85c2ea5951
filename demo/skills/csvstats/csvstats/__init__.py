"""csvstats: summary statistics of a CSV column, standard library only."""

import csv

__version__ = "1.0"


def numbers(path, column):
    """The column's cells that are numbers, as floats."""
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            try:
                yield float(row[column])
            except (KeyError, TypeError, ValueError):
                continue


def summary(path, column):
    xs = list(numbers(path, column))
    if not xs:
        return {"count": 0}
    return {"count": len(xs), "sum": sum(xs), "mean": sum(xs) / len(xs),
            "min": min(xs), "max": max(xs)}
