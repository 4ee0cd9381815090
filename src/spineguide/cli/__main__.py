"""Allow `python -m spineguide.cli`."""

from spineguide.cli import main

main()
