"""`python -m paramedic` runs the command line."""

from paramedic.cli import main

if __name__ == "__main__":
    main.main()
