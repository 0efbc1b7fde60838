"""The plan that ships with planqa as its default corpus (planqa.seeds); a package only so it installs."""
