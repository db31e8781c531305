"""Classroom serving: one gru-tui app per student, over SSH or in a browser (SPEC §9).

Both servers start every student's app as its own process with the same command line, the
teacher's options after `--`; those options are checked once, before the server starts.
"""
