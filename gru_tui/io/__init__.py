"""What users hand over: input sequences and states as text or files, and weight files."""
