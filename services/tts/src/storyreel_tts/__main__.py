"""`python -m storyreel_tts`: the same as `storyreel-tts`."""

from storyreel_tts.main import main

main()
