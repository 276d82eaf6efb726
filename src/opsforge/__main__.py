"""``python -m opsforge``."""

from opsforge.cli.main import main

if __name__ == "__main__":
    main()
