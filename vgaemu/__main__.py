from vgaemu.cli import main

raise SystemExit(main())
