"""Orders, their lifecycle, brokers and fill models (DESIGN.md §1 ``execution/``)."""
