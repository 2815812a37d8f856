"""The offline demo (`make demo`, `python -m bot demo`) and its synthetic roster."""
