"""Errors raised by segmentation: each message names the file, segment and key to fix."""


class SegmentError(ValueError):
    """Base class: a segmentation problem a user can fix without reading a traceback."""


class DefinitionError(SegmentError):
    """A segment definitions YAML file is malformed."""


class ClusterError(SegmentError):
    """The store cannot be clustered as asked (too few leads, no behaviour to tell apart)."""
