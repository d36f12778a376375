"""`python -m storyreel_storyboard`: the same as `storyreel-storyboard`."""

from storyreel_storyboard.main import main

main()
