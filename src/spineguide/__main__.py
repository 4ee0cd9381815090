"""Allow `python -m spineguide`."""

from spineguide.cli import main

main()
