"""The results contract: the typed records of a run (``records``) and the one module that reads
and writes them (``store``). Measurements return these records; analysis and report read them."""
