"""The command line: a thin layer that parses options, calls the library, prints, exits.

Only this package prints or chooses exit codes.
"""
