"""One module per measurement, each returning the records results.json holds."""
