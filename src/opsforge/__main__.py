"""``python -m opsforge``."""

from opsforge.cli.entry import main

if __name__ == "__main__":
    main()
