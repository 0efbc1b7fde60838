"""Retrieval evaluation: a question set with gold substrings, metrics per question type."""
