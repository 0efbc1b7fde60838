"""planqa: search and quote a government work plan. The command line lives in planqa.cli."""
