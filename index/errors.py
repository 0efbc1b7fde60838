"""The errors planqa raises; the CLI and the page turn them into messages for people."""


class PlanQAError(Exception):
    """Base class: the message is written for the person using planqa."""


class InputError(PlanQAError):
    """A question or option the user gave cannot be used as it is."""


class IndexMissingError(PlanQAError):
    """No index has been built at the given place."""


class IndexInvalidError(PlanQAError):
    """The index on disk is corrupt, half written, or in an unknown format."""


class IndexStaleError(PlanQAError):
    """The index was built from other seeds or with another model."""


class IndexBusyError(PlanQAError):
    """Another build holds the index lock."""


class ModelError(PlanQAError):
    """The embedding model could not be loaded or used."""


class SeedsError(PlanQAError):
    """The seeds folder is missing or holds no plan text."""


def rebuild_hint(seeds_dir: object, index_dir: object, model: str | None = None) -> str:
    """The command that rebuilds an index, quoted in error messages."""
    cmd = f"planqa index --seeds {seeds_dir} --out {index_dir}"
    if model and model != "e5-small-q4":
        cmd += f" --model {model}"
    return cmd
