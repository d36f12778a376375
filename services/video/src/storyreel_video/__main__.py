"""`python -m storyreel_video`: the same as `storyreel-video`."""

from storyreel_video.main import main

main()
