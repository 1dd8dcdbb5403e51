"""The PC platform around the CPU: interrupt controller, interval timer, debug console and
serial output, the icount machine loop (platform), and the BIOS services and loaders that
boot disk images and DOS programs on it."""

from .pic import PICPair
from .pit import PIT
from .platform import DEFAULT_IPS, PCPlatform
from .timer import Timer, TimerList

__all__ = ["DEFAULT_IPS", "PCPlatform", "PICPair", "PIT", "Timer", "TimerList"]
