"""Nurture sequences: definitions as data (YAML or chat), the store, enrolment and design."""

from tools.sequences.design import design_sequence
from tools.sequences.enrol import EnrolResult, enrol
from tools.sequences.errors import SequenceError
from tools.sequences.loader import LIBRARY_DIR, load_library, load_sequence_file, parse_definition
from tools.sequences.model import SequenceDefinition
from tools.sequences.registry import (
    definition_of,
    get_sequence,
    list_sequences,
    save_sequence,
    sequence_detail,
    sequence_summary,
    set_status,
    sync_library,
)

__all__ = [
    "LIBRARY_DIR",
    "EnrolResult",
    "SequenceDefinition",
    "SequenceError",
    "definition_of",
    "design_sequence",
    "enrol",
    "get_sequence",
    "list_sequences",
    "load_library",
    "load_sequence_file",
    "parse_definition",
    "save_sequence",
    "sequence_detail",
    "sequence_summary",
    "set_status",
    "sync_library",
]
