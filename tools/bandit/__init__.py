"""Optimize: Thompson-sampling tests of subjects, CTAs, formats and send times; a holdout."""
