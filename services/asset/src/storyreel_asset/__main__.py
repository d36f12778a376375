"""`python -m storyreel_asset`: the same as `storyreel-asset`."""

from storyreel_asset.main import main

main()
