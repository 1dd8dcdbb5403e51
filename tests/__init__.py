"""The test suite: tests/guestmem, tests/vgaemu (machine, DMA, guest, replay, CLI, front ends),
tests/vga, tests/bios, tests/stress; shared scenarios live in helper modules, not test files."""
